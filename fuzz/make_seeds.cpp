// Writes the fuzzers' seed corpora (fuzz/run calls it): small valid inputs of each format,
// made here rather than committed as binary files.
//   make_seeds DIR  ->  DIR/fuzz_image/*  (PNG gray/RGB/RGBA, BMP 24/32-bit, JPEG gray/RGB)
//                       DIR/fuzz_safetensors/*  (F32/F64/I64 tensors, scalar, empty, metadata)
//                       DIR/fuzz_cli/*  (bt_train argument lists, one argument a line)
#include <stb/stb_image_write.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> pattern(int w, int h, int comp) {
  std::vector<uint8_t> px(size_t(w) * h * comp);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 37 + i / 7);
  return px;
}

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// A safetensors file: the header text, space-padded to a multiple of 8, then the data.
std::string safetensors(std::string header, const std::string& data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 1;
  }
  const fs::path image = fs::path(argv[1]) / "fuzz_image", st = fs::path(argv[1]) / "fuzz_safetensors",
                 cli = fs::path(argv[1]) / "fuzz_cli";
  fs::create_directories(image);
  fs::create_directories(st);
  fs::create_directories(cli);
  const std::string p = image.string() + "/";
  bool ok = true;
  for (int comp : {1, 3, 4}) {
    const auto px = pattern(7, 5, comp);
    ok &= stbi_write_png((p + "c" + std::to_string(comp) + ".png").c_str(), 7, 5, comp, px.data(), 7 * comp) != 0;
  }
  for (int comp : {3, 4}) {
    const auto px = pattern(5, 3, comp);
    ok &= stbi_write_bmp((p + "c" + std::to_string(comp) + ".bmp").c_str(), 5, 3, comp, px.data()) != 0;
  }
  for (int comp : {1, 3}) {
    const auto px = pattern(16, 9, comp);
    ok &= stbi_write_jpg((p + "c" + std::to_string(comp) + ".jpg").c_str(), 16, 9, comp, px.data(), 90) != 0;
  }
  const std::string f32x2(8, '\x3f'), f64(8, '\x40'), i64x3(24, '\x01');
  write(st / "f32.safetensors", safetensors(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f32x2));
  write(st / "mixed.safetensors",
        safetensors(R"({"__metadata__":{"step":"12","arch":"resnet18"},"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]},)"
                    R"("b":{"dtype":"I64","shape":[3,1],"data_offsets":[8,32]},"c":{"dtype":"F32","shape":[0,4],"data_offsets":[32,32]}})",
                    f64 + i64x3));
  write(st / "empty.safetensors", safetensors("{}", ""));
  const char* cli_seeds[][2] = {
      {"demo", "--epochs\n2\n--max-steps-per-epoch\n1"},
      {"simclr", "--method\nsimclr\n--temperature\n0.2\n--batch\n64\n--optimizer\nadamw\n--lr\n1e-3"},
      {"byol", "--method=byol\n--tau-base\n0.99\n--arch\nresnet50\n--stem\nimagenet\n--width\n8"},
      {"lambda", "--lambda\nauto\n--proj-hidden\n64\n--proj-out\n32\n--head-scale\n0.5"},
      {"data", "--data\ncifar10-bin:/nonexistent\n--val-split\n0.2\n--views\nsymmetric\n--skip-bad"},
      {"resume", "--out\n/tmp/run\n--resume\n--stop-after\n3\n--seed\n7\n--threads\n4\n--device\nsimt"},
      {"knn", "--knn-k\n20\n--knn-t\n0.07\n--knn-bank\n0\n--log-every\n5\n--warmup-epochs\n1"},
      {"dist", "--sync-bn\nall\n--dist-timeout\n30\n--wd\n0\n--bias-lr-scale\n0.1\n--lars-eta\n0.001"},
      {"bad", "--lr\nnan\n--lambda\n-1\n--momentum\n2"},
      {"help", "--help"},
  };
  for (const auto& [name, args] : cli_seeds) write(cli / name, args);
  if (!ok) std::fprintf(stderr, "make_seeds: cannot write the image seeds in %s\n", image.c_str());
  return ok ? 0 : 1;
}
