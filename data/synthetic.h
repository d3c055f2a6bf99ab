#pragma once
// A built-in labelled dataset so training runs with no download: procedural RGB images of ten
// classes, each a shape (disk, square, horizontal stripes, ring, plus, triangle, vertical
// stripes, checkerboard, X, frame) at a random position and scale, plus uniform pixel noise.
// Only the shape carries the class: the shape and the background are filled with smooth random
// colour fields, one bright and one dark, so colour tells nothing and a random encoder, which
// mostly sees colour, is near chance on it. Image i is a pure function of (seed, i);
// label(i) = i mod 10, so classes are balanced.
#include <string>
#include <vector>

#include "data/dataset.h"

namespace bt::data {

struct SyntheticOptions {
  int64_t size = 50000;
  int image_size = 32;  // square side in pixels
  uint64_t seed = 0;
};

class SyntheticDataset : public Dataset {
 public:
  static constexpr int kClasses = 10;
  explicit SyntheticDataset(SyntheticOptions options = {});

  int64_t size() const override { return options_.size; }
  int num_classes() const override { return kClasses; }
  int label(int64_t i) const override;
  Image image(int64_t i) const override;

  static const std::vector<std::string>& class_names();

 private:
  SyntheticOptions options_;
};

}  // namespace bt::data
