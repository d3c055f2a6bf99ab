#pragma once
// Subsets of a dataset and a deterministic train/val split (--val-split).
#include <memory>
#include <vector>

#include "data/dataset.h"

namespace bt::data {

// The samples base[indices[0]], base[indices[1]], ... with the base's labels and classes.
class Subset : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices);
  int64_t size() const override { return int64_t(indices_.size()); }
  int num_classes() const override { return base_->num_classes(); }
  int label(int64_t i) const override;
  Image image(int64_t i) const override;
  int64_t base_index(int64_t i) const;

 private:
  std::shared_ptr<const Dataset> base_;
  std::vector<int64_t> indices_;
};

enum class SplitMode {
  stratified,  // each class contributes round(fraction · its count) samples to val
  shuffled,    // round(fraction · size) samples drawn from the whole set
};

struct Split {
  std::shared_ptr<Subset> train, val;  // disjoint, covering the base; indices ascending
};

// Splits ds into train and val with val_fraction in [0, 1); a pure function of
// (ds labels, val_fraction, seed, mode).
Split split_dataset(std::shared_ptr<const Dataset> ds, double val_fraction, uint64_t seed,
                    SplitMode mode = SplitMode::stratified);

}  // namespace bt::data
