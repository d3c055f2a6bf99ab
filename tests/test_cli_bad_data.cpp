// The programs over image folders holding bad files (undecodable, truncated, empty, headers
// claiming huge sizes) in --data (so in its train and val splits), in --val-data, and a class
// with no decodable image, through every loader path: bt_train (two-view train loader, kNN
// eval loader), bt_eval (feature extraction, linear probe) and loader_bench (cached and
// uncached loaders). Each either skips and counts the bad files (--skip-bad) or stops with a
// one-line error naming the file; never a signal.
#include <stb/stb_image_write.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using bt::testing::Outcome;
using bt::testing::require_clean_failure;
using bt::testing::run;
using bt::testing::TempDir;

namespace {

using Bytes = std::vector<uint8_t>;

void write_bytes(const std::string& path, const Bytes& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

void append_to(void* context, void* data, int size) {
  auto* out = static_cast<Bytes*>(context);
  out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

// An 8x8 image of one colour plus a gradient, per class.
std::vector<uint8_t> pixels(int shade) {
  std::vector<uint8_t> px(8 * 8 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(shade + (i % 24) * 3);
  return px;
}
Bytes png(int shade) {
  Bytes out;
  REQUIRE(stbi_write_png_to_func(append_to, &out, 8, 8, 3, pixels(shade).data(), 8 * 3));
  return out;
}
Bytes jpg(int shade) {
  Bytes out;
  REQUIRE(stbi_write_jpg_to_func(append_to, &out, 8, 8, 3, pixels(shade).data(), 95));
  return out;
}

void put_be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}
void put_le(Bytes& b, uint32_t v, int bytes) {
  for (int k = 0; k < bytes; ++k) b.push_back(uint8_t(v >> (8 * k)));
}

// CRC-32 of PNG chunks (ISO 3309; the PNG spec's sample code).
uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return c ^ 0xffffffffu;
}

// A PNG whose IHDR (valid CRC) claims w x h RGB, with no pixel data, then IEND.
Bytes png_header_claiming(uint32_t w, uint32_t h) {
  Bytes b = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  put_be32(b, 13);
  const size_t type_at = b.size();
  for (char c : std::string("IHDR")) b.push_back(uint8_t(c));
  put_be32(b, w);
  put_be32(b, h);
  for (uint8_t v : {8, 2, 0, 0, 0}) b.push_back(v);  // depth 8, RGB, deflate, no filter, no interlace
  put_be32(b, crc32(&b[type_at], b.size() - type_at));
  put_be32(b, 0);
  for (char c : std::string("IEND")) b.push_back(uint8_t(c));
  put_be32(b, crc32(&b[b.size() - 4], 4));
  return b;
}

// A 24-bit BMP header (BITMAPINFOHEADER) claiming w x h, with no pixel rows.
Bytes bmp_header_claiming(uint32_t w, uint32_t h) {
  Bytes b = {'B', 'M'};
  put_le(b, 54, 4);  // file size
  put_le(b, 0, 4);
  put_le(b, 54, 4);  // pixel offset
  put_le(b, 40, 4);
  put_le(b, w, 4);
  put_le(b, h, 4);
  put_le(b, 1, 2);   // planes
  put_le(b, 24, 2);  // bits per pixel
  for (int k = 0; k < 6; ++k) put_le(b, 0, 4);  // BI_RGB, sizes, resolution, palette
  return b;
}

// Every kind of bad file, by name; each lands in a class folder.
std::vector<std::pair<std::string, Bytes>> bad_files() {
  const Bytes j = jpg(40);
  const std::string text = "this is not an image";
  return {{"undecodable.jpg", Bytes(text.begin(), text.end())},
          {"truncated.jpg", Bytes(j.begin(), j.end() - 8)},  // cut inside the scan
          {"empty.png", {}},
          {"huge_side.png", png_header_claiming(100000, 100000)},
          // Sides and bytes within stb_image's own limits (2^30 bytes for a PNG), pixels over ours.
          {"huge_pixels.png", png_header_claiming(10000, 10000)},
          {"huge.bmp", bmp_header_claiming(100000, 100000)}};
}

// root/<class>/: `good` decodable images per class (a PNG, and a JPEG named .png: the content,
// not the extension, picks the decoder; a .txt file is ignored), plus the bad files in the
// classes listed in `bad_in`. Returns the number of bad files written.
int make_folder(const std::string& root, const std::vector<std::string>& classes, int good,
                const std::vector<std::string>& bad_in) {
  int bad = 0;
  for (size_t c = 0; c < classes.size(); ++c) {
    const fs::path dir = fs::path(root) / classes[c];
    fs::create_directories(dir);
    for (int i = 0; i < good; ++i)
      write_bytes((dir / ("img" + std::to_string(i) + ".png")).string(),
                  i % 2 ? jpg(int(c) * 100 + i) : png(int(c) * 100 + i));
    std::ofstream(dir / "notes.txt") << "ignored";
    if (std::find(bad_in.begin(), bad_in.end(), classes[c]) == bad_in.end()) continue;
    for (const auto& [name, bytes] : bad_files()) {
      write_bytes((dir / name).string(), bytes);
      ++bad;
    }
  }
  return bad;
}

// Small and single-threaded (the CI machine's 2 cores are shared by parallel tests).
const std::string kEnv = "OMP_NUM_THREADS=1 ";
const std::string kTrain = " --width 4 --head-scale 0.05 --batch 4 --epochs 1 --max-steps-per-epoch 2"
                           " --image-size 8 --knn-k 3 --threads 1";
const std::string kEval = " --batch 4 --image-size 8 --knn-k 3 --threads 1 --probe-epochs 1 --probe-batch 4";

std::string skipped(int n) { return "skipped " + std::to_string(n) + " undecodable images (--skip-bad)"; }

void require_success(const Outcome& o, const std::string& says) {
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  REQUIRE(o.output.find(says) != std::string::npos);
}

// A clean failure whose message appears once.
void require_one_line_error(const Outcome& o, const std::string& names) {
  require_clean_failure(o, names);
  INFO(o.output);
  CHECK(o.output.find(names) == o.output.rfind(names));
}

// A folder of two classes with no bad file.
std::string make_clean(const TempDir& dir) {
  const std::string data = dir / "clean";
  if (!fs::exists(data)) make_folder(data, {"a", "b"}, 6, {});
  return data;
}

// A backbone to evaluate: bt_train on a clean folder.
std::string train_backbone(const TempDir& dir) {
  const std::string data = make_clean(dir), out = dir / "clean_run";
  require_success(run(kEnv + BT_TRAIN_EXE + kTrain + " --data " + data + " --out " + out), "done:");
  return (fs::path(out) / "backbone.safetensors").string();
}

}  // namespace

TEST_CASE("bt_train over bad files in --data: error naming the file, or --skip-bad trains and counts them") {
  TempDir dir;
  const std::string data = dir / "data";
  // Bad files in the later classes only: the images of the first, before the first bad file,
  // must survive the skipping (they were emptied once, a segfault in the kNN loader).
  const int bad = make_folder(data, {"a", "b", "c"}, 6, {"b", "c"});
  const std::string cmd = kEnv + BT_TRAIN_EXE + kTrain + " --data " + data + " --val-split 0.5 --out ";
  // The first bad file in path order is named.
  require_one_line_error(run(cmd + dir / "strict"), "bt_train: error: --data: cannot decode " + data + "/b/empty.png");
  CHECK_FALSE(fs::exists(fs::path(dir / "strict") / "checkpoint.safetensors"));
  const Outcome o = run(cmd + dir / "skip" + " --skip-bad");
  require_success(o, skipped(bad));
  CHECK(fs::exists(fs::path(dir / "skip") / "backbone.safetensors"));
}

TEST_CASE("each kind of bad file alone: bt_train names it and says what is wrong") {
  TempDir dir;
  const std::map<std::string, std::string> reason = {
      {"undecodable.jpg", "no readable JPEG, PNG or BMP header"}, {"truncated.jpg", "expected marker"},
      {"empty.png", "empty file"}, {"huge_side.png", "no readable JPEG, PNG or BMP header (or a side over 65536)"},
      {"huge_pixels.png", "10000x10000 exceeds the limit of 89478485 pixels"},
      {"huge.bmp", "100000x100000 exceeds the limit of 89478485 pixels"}};
  for (const auto& [name, bytes] : bad_files()) {
    const std::string data = dir / name;
    make_folder(data, {"a", "b"}, 2, {});
    write_bytes(data + "/a/" + name, bytes);
    const Outcome o = run(kEnv + BT_TRAIN_EXE + kTrain + " --data " + data + " --out " + dir / "out");
    require_one_line_error(o, "--data: cannot decode " + data + "/a/" + name);
    CHECK(o.output.find(reason.at(name)) != std::string::npos);
  }
}

TEST_CASE("bt_train over bad files in --val-data: error naming the file, or --skip-bad counts them") {
  TempDir dir;
  const std::string data = dir / "data", val = dir / "val";
  make_folder(data, {"a", "b"}, 4, {});
  const int bad = make_folder(val, {"a", "b"}, 3, {"b"});
  const std::string cmd = kEnv + BT_TRAIN_EXE + kTrain + " --data " + data + " --val-data " + val + " --out ";
  require_one_line_error(run(cmd + dir / "strict"), "--val-data: cannot decode " + val + "/b/empty.png");
  require_success(run(cmd + dir / "skip" + " --skip-bad"), skipped(bad));
}

TEST_CASE("a class with no decodable image: an error naming the class folder, with or without --skip-bad") {
  TempDir dir;
  const std::string data = dir / "data", val = dir / "val";
  make_folder(data, {"a", "b"}, 4, {});
  make_folder(data, {"c"}, 0, {"c"});
  make_folder(val, {"a", "b"}, 2, {});
  make_folder(val, {"c"}, 0, {"c"});
  const std::string train = kEnv + BT_TRAIN_EXE + kTrain + " --out " + dir / "out";
  require_one_line_error(run(train + " --data " + data), "--data: cannot decode " + data + "/c/empty.png");
  require_one_line_error(run(train + " --data " + data + " --skip-bad"),
                         "--data: class folder has no decodable images: " + data + "/c");
  make_folder(dir / "clean_c", {"a", "b", "c"}, 2, {});
  require_one_line_error(run(train + " --data " + dir / "clean_c" + " --val-data " + val + " --skip-bad"),
                         "--val-data: class folder has no decodable images: " + val + "/c");
}

TEST_CASE("bt_eval (kNN and linear probe) over bad files: error naming the file, or --skip-bad counts them") {
  TempDir dir;
  const std::string weights = train_backbone(dir);
  const std::string data = dir / "data", val = dir / "val";
  const int bad_data = make_folder(data, {"a", "b"}, 6, {"b"});
  const int bad_val = make_folder(val, {"a", "b"}, 3, {"a", "b"});
  const std::string eval = kEnv + BT_EVAL_EXE + kEval + " --weights " + weights;
  require_one_line_error(run(eval + " --data " + data), "--data: cannot decode " + data + "/b/empty.png");
  require_one_line_error(run(eval + " --data " + make_clean(dir) + " --val-data " + val),
                         "--val-data: cannot decode " + val + "/a/empty.png");
  const Outcome split = run(eval + " --data " + data + " --val-split 0.5 --skip-bad");
  require_success(split, skipped(bad_data));
  CHECK(split.output.find("linear probe") != std::string::npos);
  const Outcome separate = run(eval + " --data " + data + " --val-data " + val + " --skip-bad");
  require_success(separate, skipped(bad_data + bad_val));
  CHECK(separate.output.find("linear probe") != std::string::npos);
}

TEST_CASE("loader_bench over bad files: error naming the file, or --skip-bad counts them") {
  TempDir dir;
  const std::string data = dir / "data";
  const int bad = make_folder(data, {"a", "b"}, 4, {"b"});
  const std::string bench = kEnv + LOADER_BENCH_EXE + " --size 8 --batch 4 --batches 2 --threads 1"
                            " --synthetic-size 8 --data " + data;
  require_one_line_error(run(bench), "loader_bench: cannot decode " + data + "/b/empty.png");
  require_success(run(bench + " --skip-bad"), std::to_string(bad) + " undecodable skipped");
}
