// Datasets: image decoding (JPEG/PNG/BMP; gray, RGBA), ImageFolder order/labels/errors/
// skip_bad/cache, CIFAR-10 binary, the synthetic set and the train/val split. Every fixture is
// written by the test into its own temporary directory.
#include <stb/stb_image_write.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <unistd.h>

#include "support/temp_dir.h"
#include "data/cifar10.h"
#include "data/image.h"
#include "data/image_folder.h"
#include "data/split.h"
#include "data/synthetic.h"
#include "engine/rng.h"

using namespace bt;
using namespace bt::data;
namespace fs = std::filesystem;

using bt::testing::TempDir;

namespace {


// A w×h image with `comp` channels whose pixel (x, y, c) is (x·40 + y·7 + c·60) mod 256.
std::vector<uint8_t> pattern(int w, int h, int comp) {
  std::vector<uint8_t> px(size_t(w) * h * comp);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < comp; ++c) px[(size_t(y) * w + x) * comp + c] = uint8_t(x * 40 + y * 7 + c * 60);
  return px;
}

void write_png(const std::string& path, int w, int h, int comp) {
  REQUIRE(stbi_write_png(path.c_str(), w, h, comp, pattern(w, h, comp).data(), w * comp));
}
void write_bmp(const std::string& path, int w, int h, int comp) {
  REQUIRE(stbi_write_bmp(path.c_str(), w, h, comp, pattern(w, h, comp).data()));
}
void write_jpg(const std::string& path, int w, int h, int comp) {
  REQUIRE(stbi_write_jpg(path.c_str(), w, h, comp, pattern(w, h, comp).data(), 95));
}
void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// Cuts a file to a fraction of its size.
void truncate_file(const std::string& path, double keep) {
  fs::resize_file(path, uintmax_t(fs::file_size(path) * keep));
}

}  // namespace

TEST_CASE("decode PNG RGB, grayscale and RGBA, BMP exactly; JPEG approximately") {
  TempDir dir;
  write_png(dir / "rgb.png", 5, 3, 3);
  write_png(dir / "gray.png", 5, 3, 1);
  write_png(dir / "rgba.png", 5, 3, 4);
  write_bmp(dir / "rgb.bmp", 5, 3, 3);
  write_jpg(dir / "rgb.jpg", 16, 16, 3);
  const auto rgb = pattern(5, 3, 3), gray = pattern(5, 3, 1), rgba = pattern(5, 3, 4);

  Image a = load_image(dir / "rgb.png");
  REQUIRE(a.w == 5);
  REQUIRE(a.h == 3);
  REQUIRE(a.pixels == rgb);
  REQUIRE(load_image(dir / "rgb.bmp").pixels == rgb);
  Image g = load_image(dir / "gray.png");  // gray replicated to R = G = B
  for (size_t p = 0; p < gray.size(); ++p)
    for (int c = 0; c < 3; ++c) REQUIRE(g.pixels[p * 3 + c] == gray[p]);
  Image r = load_image(dir / "rgba.png");  // alpha dropped
  for (size_t p = 0; p < 15; ++p)
    for (int c = 0; c < 3; ++c) REQUIRE(r.pixels[p * 3 + c] == rgba[p * 4 + c]);
  Image j = load_image(dir / "rgb.jpg");
  REQUIRE(j.w == 16);
  const auto ref = pattern(16, 16, 3);
  double err = 0;
  for (size_t k = 0; k < ref.size(); ++k) err += std::abs(int(j.pixels[k]) - int(ref[k]));
  REQUIRE(err / ref.size() < 12);  // lossy, chroma-subsampled; the pattern has hard edges
}

TEST_CASE("truncated or fake files are rejected with the file's name") {
  TempDir dir;
  const std::string jpg = dir / "cut.jpg", png = dir / "cut.png", bmp = dir / "cut.bmp",
                    txt = dir / "text.jpg";
  write_jpg(jpg, 64, 64, 3);
  write_png(png, 64, 64, 3);
  write_bmp(bmp, 64, 64, 3);
  write_text(txt, "this is not an image\n");
  // Cuts stb_image accepts by itself: a PNG cut in its final CRC, a BMP missing pixel rows.
  REQUIRE_NOTHROW(load_image(png));
  REQUIRE_NOTHROW(load_image(bmp));
  fs::resize_file(png, fs::file_size(png) - 2);
  truncate_file(bmp, 0.6);
  for (const auto& f : {png, bmp})
    REQUIRE_THROWS_WITH(load_image(f), Catch::Contains(f) && Catch::Contains("truncated"));
  // Cuts stb_image rejects (a JPEG must end its scan with a marker; a PNG's image data).
  REQUIRE_NOTHROW(load_image(jpg));
  for (double keep : {0.99, 0.6, 0.1}) {
    truncate_file(jpg, keep);
    truncate_file(png, keep);
    REQUIRE_THROWS_WITH(load_image(jpg), Catch::Contains(jpg));
    REQUIRE_THROWS_WITH(load_image(png), Catch::Contains(png));
  }
  REQUIRE_THROWS_AS(load_image(txt), Error);
  REQUIRE_THROWS_WITH(load_image(txt), Catch::Contains(txt));
  REQUIRE_THROWS_WITH(load_image(dir / "absent.png"), Catch::Contains("absent.png"));
}

TEST_CASE("a JPEG Huffman table of more than 256 symbols is rejected before stb_image sees it") {
  // stb_image 2.27 writes past its tables on such a file (the fuzz finding kept in
  // fuzz/regressions/fuzz_image/); the check counts the symbols of each table of each DHT.
  TempDir dir;
  const std::string path = dir / "ok.jpg";
  write_jpg(path, 16, 16, 3);
  std::vector<uint8_t> bytes = read_file(path);
  REQUIRE_NOTHROW(decode_image(bytes, "ok.jpg"));
  size_t dht = 0;
  for (size_t p = 0; p + 1 < bytes.size() && dht == 0; ++p)
    if (bytes[p] == 0xff && bytes[p + 1] == 0xc4) dht = p;
  REQUIRE(dht > 0);
  int w = 0, h = 0;
  REQUIRE(read_image_size(bytes, w, h));
  // The first table's counts (after marker, length and class/id bytes) now sum to 16 x 17 = 272.
  for (int i = 0; i < 16; ++i) bytes[dht + 5 + i] = 17;
  REQUIRE_THROWS_WITH(decode_image(bytes, "bad.jpg"),
                      Catch::Contains("bad.jpg") && Catch::Contains("corrupt JPEG Huffman table"));
  REQUIRE_FALSE(read_image_size(bytes, w, h));
  // stb_image skips FF fill bytes before the SOI marker: still a JPEG, still checked.
  bytes.insert(bytes.begin(), {0xff, 0xff});
  REQUIRE_THROWS_WITH(decode_image(bytes, "filled.jpg"), Catch::Contains("corrupt JPEG Huffman table"));
}

TEST_CASE("a PNG chunk longer than the file and a header of no pixels are rejected before decoding") {
  TempDir dir;
  const std::string png = dir / "a.png", bmp = dir / "a.bmp";
  write_png(png, 8, 8, 3);
  write_bmp(bmp, 8, 8, 3);
  std::vector<uint8_t> p = read_file(png), b = read_file(bmp);
  // The first chunk after IHDR (8 + 25 bytes in) claims 1 GiB: stb_image would grow its buffer
  // to that length (fuzz/regressions/fuzz_image/png_chunk_claims_1gib.png).
  REQUIRE(std::string(p.begin() + 37, p.begin() + 41) == "IDAT");
  p[33] = 0x40, p[34] = p[35] = p[36] = 0;
  REQUIRE_THROWS_WITH(decode_image(p, "long.png"), Catch::Contains("long.png: truncated file"));
  // A BMP of height 0 (bytes 22-25 of BITMAPINFOHEADER): stb_image "decodes" it to nothing.
  b[22] = b[23] = b[24] = b[25] = 0;
  REQUIRE_THROWS_WITH(decode_image(b, "flat.bmp"), Catch::Contains("flat.bmp: the header gives no pixels (8x0)"));
}

TEST_CASE("ImageFolder: sorted classes and files, labels, formats, nesting, cache") {
  TempDir dir;
  const std::string root = (dir.path / "root").string();
  write_png(dir / "root/zebra/b.png", 4, 4, 3);
  write_bmp(dir / "root/zebra/a.BMP", 4, 4, 3);
  write_png(dir / "root/apple/z.png", 4, 4, 1);
  write_png(dir / "root/apple/sub/m.png", 4, 4, 4);
  write_jpg(dir / "root/apple/k.jpeg", 8, 8, 3);
  write_text(dir / "root/apple/notes.txt", "ignored");
  write_text(dir / "root/stray.png", "files directly in root are not samples");
  fs::create_directories(dir.path / "root/.hidden");

  for (size_t cache : {size_t(0), size_t(1) << 20}) {
    ImageFolderOptions opt;
    opt.cache_bytes = cache;
    ImageFolder ds(root, opt);
    REQUIRE(ds.classes() == std::vector<std::string>{"apple", "zebra"});
    REQUIRE(ds.num_classes() == 2);
    REQUIRE(ds.size() == 5);
    const std::vector<std::string> names = {"k.jpeg", "sub/m.png", "z.png", "a.BMP", "b.png"};
    const std::vector<int> labels = {0, 0, 0, 1, 1};
    for (int64_t i = 0; i < ds.size(); ++i) {
      REQUIRE(ds.path(i).ends_with(names[i]));
      REQUIRE(ds.label(i) == labels[i]);
    }
    REQUIRE(ds.image(3).pixels == pattern(4, 4, 3));
    REQUIRE(ds.image(0).w == 8);
    REQUIRE(ds.cached_count() == (cache ? 5 : 0));
    REQUIRE_THROWS_WITH(ds.image(5), Catch::Contains("out of range"));
  }
  ImageFolderOptions tiny;
  tiny.cache_bytes = 4 * 4 * 3 * 2;  // room for exactly two 4×4 images
  ImageFolder partial(root, tiny);
  REQUIRE(partial.cached_count() == 2);
  REQUIRE(partial.cached_bytes() == tiny.cache_bytes);
  REQUIRE(partial.image(4).pixels == pattern(4, 4, 3));
}

TEST_CASE("ImageFolder errors name the offending path") {
  TempDir dir;
  const std::string missing = (dir.path / "nope").string();
  REQUIRE_THROWS_WITH(ImageFolder(missing), Catch::Contains(missing));
  const std::string empty = dir / "empty/";
  REQUIRE_THROWS_WITH(ImageFolder(empty), Catch::Contains(empty) && Catch::Contains("no class"));
  write_png(dir / "root/good/a.png", 4, 4, 3);
  write_text(dir / "root/bare/readme.txt", "no images here");
  const std::string bare = (dir.path / "root/bare").string();
  REQUIRE_THROWS_WITH(ImageFolder((dir.path / "root").string()), Catch::Contains(bare));
}

TEST_CASE("ImageFolder with bad files: error naming the file, or skip_bad counts them") {
  TempDir dir;
  const std::string root = (dir.path / "root").string();
  write_png(dir / "root/a/0.png", 8, 8, 3);
  write_jpg(dir / "root/a/1.jpg", 32, 32, 3);
  write_png(dir / "root/b/0.png", 8, 8, 3);
  const std::string cut = dir / "root/a/1.jpg", fake = dir / "root/b/1.jpg";
  truncate_file(cut, 0.5);
  write_text(fake, "plain text with a .jpg name");

  ImageFolderOptions lazy;  // no decoding at scan time: the error comes from image()
  lazy.cache_bytes = 0;
  ImageFolder ds(root, lazy);
  REQUIRE(ds.size() == 4);
  REQUIRE_THROWS_WITH(ds.image(1), Catch::Contains(cut));
  REQUIRE_THROWS_WITH(ds.image(3), Catch::Contains(fake));
  REQUIRE(ds.image(0).w == 8);

  // With the cache on, files are decoded at scan time; the first bad file by order is named.
  REQUIRE_THROWS_WITH(ImageFolder(root), Catch::Contains(cut));

  for (size_t cache : {size_t(0), size_t(1) << 20}) {
    ImageFolderOptions skip;
    skip.skip_bad = true;
    skip.cache_bytes = cache;
    ImageFolder ok(root, skip);
    REQUIRE(ok.skipped_count() == 2);
    REQUIRE(ok.size() == 2);
    REQUIRE(ok.label(0) == 0);
    REQUIRE(ok.label(1) == 1);
    REQUIRE(ok.image(1).pixels == pattern(8, 8, 3));
  }
  truncate_file(dir / "root/b/0.png", 0.5);  // class b now has no decodable image
  ImageFolderOptions skip;
  skip.skip_bad = true;
  REQUIRE_THROWS_WITH(ImageFolder(root, skip), Catch::Contains((dir.path / "root/b").string()));
}

TEST_CASE("CIFAR-10 binary: records, CHW to HWC, missing and truncated files") {
  TempDir dir;
  // Record r of batch b: label (b + r) mod 10, channel c of pixel p = (p + 50c + r) mod 256.
  auto write_batch = [&](const std::string& name, int records, int b) {
    std::ofstream f(dir / name, std::ios::binary);
    for (int r = 0; r < records; ++r) {
      f.put(char((b + r) % 10));
      for (int c = 0; c < 3; ++c)
        for (int p = 0; p < 1024; ++p) f.put(char((p + 50 * c + r) % 256));
    }
  };
  for (int b = 1; b <= 5; ++b) write_batch("data_batch_" + std::to_string(b) + ".bin", 2, b);
  write_batch("test_batch.bin", 3, 0);

  Cifar10Binary train(dir.path.string(), true), test(dir.path.string(), false);
  REQUIRE(train.size() == 10);
  REQUIRE(test.size() == 3);
  REQUIRE(train.num_classes() == 10);
  REQUIRE(train.label(0) == 1);
  REQUIRE(train.label(9) == 6);  // batch 5, record 1
  REQUIRE(test.label(2) == 2);
  Image img = train.image(3);  // batch 2, record 1
  REQUIRE(img.w == 32);
  REQUIRE(img.h == 32);
  const int p = 5 * 32 + 7;
  for (int c = 0; c < 3; ++c) REQUIRE(img.pixels[p * 3 + c] == (p + 50 * c + 1) % 256);
  REQUIRE(Cifar10Binary::class_names()[train.label(0)] == "automobile");

  const std::string b3 = dir / "data_batch_3.bin";
  truncate_file(b3, 0.7);
  REQUIRE_THROWS_WITH(Cifar10Binary(dir.path.string()), Catch::Contains(b3) && Catch::Contains("truncated"));
  fs::remove(b3);
  REQUIRE_THROWS_WITH(Cifar10Binary(dir.path.string()), Catch::Contains(b3) && Catch::Contains("missing"));
  REQUIRE_NOTHROW(Cifar10Binary(dir.path.string(), false));
}

namespace {

// Nearest class-centroid accuracy (%) of `features`, fitted on images [0, n/2) and scored on
// [n/2, n).
template <class Features>
double nearest_centroid_accuracy(const SyntheticDataset& ds, int64_t n, Features features) {
  std::vector<std::vector<double>> centroid(10);
  std::vector<int> count(10, 0);
  for (int64_t i = 0; i < n / 2; ++i) {
    const std::vector<double> f = features(ds.image(i));
    auto& c = centroid[size_t(ds.label(i))];
    c.resize(f.size(), 0.0);
    for (size_t k = 0; k < f.size(); ++k) c[k] += f[k];
    ++count[size_t(ds.label(i))];
  }
  for (int c = 0; c < 10; ++c)
    for (double& v : centroid[size_t(c)]) v /= count[size_t(c)];
  int correct = 0;
  for (int64_t i = n / 2; i < n; ++i) {
    const std::vector<double> f = features(ds.image(i));
    int best = 0;
    double best_d = 1e300;
    for (int c = 0; c < 10; ++c) {
      double d = 0;
      for (size_t k = 0; k < f.size(); ++k) d += (f[k] - centroid[size_t(c)][k]) * (f[k] - centroid[size_t(c)][k]);
      if (d < best_d) best_d = d, best = c;
    }
    correct += best == ds.label(i);
  }
  return 100.0 * correct / double(n - n / 2);
}

// The largest channel of each pixel (HSV value).
std::vector<int> pixel_values(const Image& im) {
  std::vector<int> v(size_t(im.w) * im.h);
  for (size_t p = 0; p < v.size(); ++p)
    v[p] = std::max({im.pixels[3 * p], im.pixels[3 * p + 1], im.pixels[3 * p + 2]});
  return v;
}

}  // namespace

TEST_CASE("synthetic dataset: deterministic, balanced; colour tells nothing, the bright/dark outline the class") {
  SyntheticOptions opt;
  opt.size = 2000;
  opt.seed = 7;
  SyntheticDataset ds(opt), same(opt);
  opt.seed = 8;
  SyntheticDataset other(opt);
  REQUIRE(ds.num_classes() == 10);
  REQUIRE(SyntheticDataset::class_names().size() == 10);
  REQUIRE(ds.image(123).pixels == same.image(123).pixels);
  REQUIRE(ds.image(123).pixels != other.image(123).pixels);
  REQUIRE(ds.image(123).pixels != ds.image(133).pixels);  // same class, another sample
  std::vector<int> counts(10, 0);
  for (int64_t i = 0; i < ds.size(); ++i) ++counts[ds.label(i)];
  for (int c : counts) REQUIRE(c == 200);

  // Colour is no cue: nearest centroid on each image's mean and std per channel is near chance
  // (10 %; ±3 % is the binomial noise over 1000 images).
  const double colour = nearest_centroid_accuracy(ds, 2000, [](const Image& im) {
    std::vector<double> f(6, 0.0);
    const double n = double(im.w) * im.h;
    for (size_t p = 0; p < size_t(n); ++p)
      for (int c = 0; c < 3; ++c) f[size_t(c)] += im.pixels[3 * p + c] / n;
    for (size_t p = 0; p < size_t(n); ++p)
      for (int c = 0; c < 3; ++c) f[size_t(3 + c)] += std::pow(im.pixels[3 * p + c] - f[size_t(c)], 2) / n;
    return f;
  });
  INFO("colour statistics: nearest-centroid accuracy " << colour << " %");
  CHECK(colour < 17.0);

  // The outline is the cue: the bright/dark mask m = ±1 (largest channel above 121, between
  // the corners' value ranges),
  // described by its autocorrelation A(d) = mean_p m(p)·m(p + d) over shifts |dx|, |dy| ≤ 4,
  // which ignores position and the polarity of the mask, separates the classes far above chance.
  const double outline = nearest_centroid_accuracy(ds, 2000, [](const Image& im) {
    const std::vector<int> v = pixel_values(im);
    std::vector<double> f;
    for (int dy = -4; dy <= 4; ++dy)
      for (int dx = 0; dx <= 4; ++dx) {
        double sum = 0;
        int n = 0;
        for (int y = std::max(0, -dy); y < std::min(im.h, im.h - dy); ++y)
          for (int x = 0; x < im.w - dx; ++x, ++n) {
            const int a = v[size_t(y * im.w + x)] > 121 ? 1 : -1, b = v[size_t((y + dy) * im.w + x + dx)] > 121 ? 1 : -1;
            sum += a * b;
          }
        f.push_back(sum / n);
      }
    return f;
  });
  INFO("outline autocorrelation: nearest-centroid accuracy " << outline << " %");
  CHECK(outline > 2 * colour);
  CHECK(outline > 30.0);
}

TEST_CASE("train/val split: stratified and shuffled, deterministic, disjoint") {
  SyntheticOptions opt;
  opt.size = 1000;
  auto ds = std::make_shared<SyntheticDataset>(opt);
  Split s = split_dataset(ds, 0.1, 3);
  REQUIRE(s.val->size() == 100);
  REQUIRE(s.train->size() == 900);
  std::vector<int> val_counts(10, 0);
  for (int64_t i = 0; i < s.val->size(); ++i) ++val_counts[s.val->label(i)];
  for (int c : val_counts) REQUIRE(c == 10);
  std::set<int64_t> all;
  for (const auto& part : {s.train, s.val})
    for (int64_t i = 0; i < part->size(); ++i) all.insert(part->base_index(i));
  REQUIRE(all.size() == 1000);
  REQUIRE(s.val->image(0).pixels == ds->image(s.val->base_index(0)).pixels);

  Split again = split_dataset(ds, 0.1, 3), other = split_dataset(ds, 0.1, 4);
  std::vector<int64_t> a, b, c;
  for (int64_t i = 0; i < 100; ++i) {
    a.push_back(s.val->base_index(i));
    b.push_back(again.val->base_index(i));
    c.push_back(other.val->base_index(i));
  }
  REQUIRE(a == b);
  REQUIRE(a != c);
  Split sh = split_dataset(ds, 0.25, 3, SplitMode::shuffled);
  REQUIRE(sh.val->size() == 250);
  REQUIRE(split_dataset(ds, 0.0, 3).val->size() == 0);
  REQUIRE_THROWS_WITH(split_dataset(ds, 1.0, 3), Catch::Contains("val split"));
}

TEST_CASE("ImageFolder on CIFAR-10 JPEGs from the shared tarball (if present)") {
  const char* tarball = "/work/shared/data/cifar10-train-jpg.tar.gz";
  if (!fs::exists(tarball)) {
    WARN("skipped: " << tarball << " not found");
    return;
  }
  TempDir dir;
  const std::string cmd = std::string("tar xzf ") + tarball + " -C " + dir.path.string() +
                          " --wildcards 'train/*/00[0-2]*.jpg'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  ImageFolderOptions opt;
  opt.threads = 2;
  ImageFolder ds((dir.path / "train").string(), opt);
  REQUIRE(ds.num_classes() == 10);
  REQUIRE(ds.size() == 300);
  REQUIRE(ds.cached_count() == 300);
  REQUIRE(ds.classes()[0] == "airplane");
  REQUIRE(ds.label(299) == 9);
  Image img = ds.image(0);
  REQUIRE(img.w == 32);
  REQUIRE(img.h == 32);
  double mean = 0;
  for (uint8_t v : img.pixels) mean += v;
  mean /= img.pixels.size();
  REQUIRE(mean > 5);
  REQUIRE(mean < 250);
}
