#pragma once
// The one interface every labelled image source implements (image folder, CIFAR-10 binary,
// synthetic, subsets). Implementations are safe to read from several threads at once.
#include <cstdint>

#include "data/image.h"
#include "engine/error.h"

namespace bt::data {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual int num_classes() const = 0;
  virtual int label(int64_t i) const = 0;  // in [0, num_classes())
  virtual Image image(int64_t i) const = 0;  // 8-bit RGB; throws bt::Error if undecodable

 protected:
  void check_index(int64_t i) const {
    BT_CHECK(i >= 0 && i < size(), "dataset index ", i, " out of range [0, ", size(), ")");
  }
};

}  // namespace bt::data
