#include "data/split.h"

#include <algorithm>
#include <cmath>

#include "engine/rng.h"

namespace bt::data {

namespace {

void shuffle(std::vector<int64_t>& v, Rng& rng) {  // Fisher–Yates
  for (int64_t i = int64_t(v.size()) - 1; i > 0; --i) std::swap(v[i], v[rng.randint(0, i + 1)]);
}

// Moves the first n_val entries of `pool` to val, the rest to train.
void take(const std::vector<int64_t>& pool, int64_t n_val, std::vector<int64_t>& train,
          std::vector<int64_t>& val) {
  val.insert(val.end(), pool.begin(), pool.begin() + n_val);
  train.insert(train.end(), pool.begin() + n_val, pool.end());
}

}  // namespace

Subset::Subset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices)
    : base_(std::move(base)), indices_(std::move(indices)) {
  BT_CHECK(base_ != nullptr, "Subset of a null dataset");
  for (int64_t i : indices_)
    BT_CHECK(i >= 0 && i < base_->size(), "Subset index ", i, " out of range [0, ",
             base_->size(), ")");
}

int Subset::label(int64_t i) const { return base_->label(base_index(i)); }

Image Subset::image(int64_t i) const { return base_->image(base_index(i)); }

int64_t Subset::base_index(int64_t i) const {
  check_index(i);
  return indices_[i];
}

Split split_dataset(std::shared_ptr<const Dataset> ds, double val_fraction, uint64_t seed,
                    SplitMode mode) {
  BT_CHECK(ds != nullptr, "split of a null dataset");
  BT_CHECK(val_fraction >= 0 && val_fraction < 1, "val split must be in [0, 1), got ",
           val_fraction);
  const auto count = [val_fraction](size_t n) { return int64_t(std::llround(val_fraction * n)); };
  std::vector<int64_t> train, val;
  Rng rng(seed);
  if (mode == SplitMode::shuffled) {
    std::vector<int64_t> all(ds->size());
    for (int64_t i = 0; i < ds->size(); ++i) all[i] = i;
    shuffle(all, rng);
    take(all, count(all.size()), train, val);
  } else {
    std::vector<std::vector<int64_t>> by_class(ds->num_classes());
    for (int64_t i = 0; i < ds->size(); ++i) by_class.at(ds->label(i)).push_back(i);
    for (size_t c = 0; c < by_class.size(); ++c) {
      Rng class_rng = rng.fork(c);
      shuffle(by_class[c], class_rng);
      take(by_class[c], count(by_class[c].size()), train, val);
    }
  }
  std::sort(train.begin(), train.end());
  std::sort(val.begin(), val.end());
  return {std::make_shared<Subset>(ds, std::move(train)), std::make_shared<Subset>(ds, std::move(val))};
}

}  // namespace bt::data
