#pragma once
// CIFAR-10 binary version (cifar-10-batches-bin): data_batch_1..5.bin (train) and
// test_batch.bin (test), each a sequence of 3073-byte records: 1 label byte (0..9), then a
// 32×32 image as 1024 red, 1024 green, 1024 blue bytes (CHW, rows top to bottom).
#include <string>
#include <vector>

#include "data/dataset.h"

namespace bt::data {

class Cifar10Binary : public Dataset {
 public:
  static constexpr int kSide = 32;
  static constexpr int kRecordBytes = 1 + 3 * kSide * kSide;

  // dir holds the .bin files directly or in a cifar-10-batches-bin sub-folder. Throws
  // bt::Error naming the file when one is missing, empty, not a whole number of records, or
  // holds a label outside 0..9.
  explicit Cifar10Binary(const std::string& dir, bool train = true);

  int64_t size() const override { return int64_t(labels_.size()); }
  int num_classes() const override { return 10; }
  int label(int64_t i) const override;
  Image image(int64_t i) const override;

  static const std::vector<std::string>& class_names();

 private:
  void load_file(const std::string& path);

  std::vector<uint8_t> labels_;
  std::vector<uint8_t> pixels_;  // (n, 32, 32, 3): converted to HWC once at load
};

}  // namespace bt::data
