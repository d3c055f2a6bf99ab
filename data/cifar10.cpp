#include "data/cifar10.h"

#include <filesystem>

namespace bt::data {

namespace fs = std::filesystem;

Cifar10Binary::Cifar10Binary(const std::string& dir, bool train) {
  std::error_code ec;
  BT_CHECK(fs::is_directory(dir, ec), "CIFAR-10 directory not found: ", dir);
  fs::path base = dir;
  if (fs::is_directory(base / "cifar-10-batches-bin", ec)) base /= "cifar-10-batches-bin";
  std::vector<std::string> files;
  if (train) {
    for (int b = 1; b <= 5; ++b) files.push_back("data_batch_" + std::to_string(b) + ".bin");
  } else {
    files.push_back("test_batch.bin");
  }
  for (const auto& f : files) {
    const fs::path p = base / f;
    BT_CHECK(fs::is_regular_file(p, ec), "CIFAR-10 file missing: ", p.string());
    load_file(p.string());
  }
}

void Cifar10Binary::load_file(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file(path);
  BT_CHECK(!bytes.empty(), "CIFAR-10 file is empty: ", path);
  BT_CHECK(bytes.size() % kRecordBytes == 0, "CIFAR-10 file truncated: ", path, " has ",
           bytes.size(), " bytes, not a multiple of the ", kRecordBytes, "-byte record");
  const size_t n = bytes.size() / kRecordBytes, plane = kSide * kSide;
  const size_t first = labels_.size();
  labels_.resize(first + n);
  pixels_.resize((first + n) * plane * 3);
  for (size_t r = 0; r < n; ++r) {
    const uint8_t* rec = &bytes[r * kRecordBytes];
    BT_CHECK(rec[0] < 10, "CIFAR-10 file ", path, ": record ", r, " has label ", int(rec[0]));
    labels_[first + r] = rec[0];
    uint8_t* out = &pixels_[(first + r) * plane * 3];
    for (size_t p = 0; p < plane; ++p)
      for (size_t c = 0; c < 3; ++c) out[p * 3 + c] = rec[1 + c * plane + p];  // CHW → HWC
  }
}

int Cifar10Binary::label(int64_t i) const {
  check_index(i);
  return labels_[i];
}

Image Cifar10Binary::image(int64_t i) const {
  check_index(i);
  Image img;
  img.w = img.h = kSide;
  const size_t bytes = size_t(kSide) * kSide * 3;
  img.pixels.assign(pixels_.begin() + i * bytes, pixels_.begin() + (i + 1) * bytes);
  return img;
}

const std::vector<std::string>& Cifar10Binary::class_names() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird", "cat", "deer",
                                                 "dog", "frog", "horse", "ship", "truck"};
  return names;
}

}  // namespace bt::data
