#pragma once
// Multithreaded loaders over a Dataset. TwoViewLoader: epochs of shuffled batches, each sample
// turned into two augmented views; EvalLoader: the dataset in order through the eval view.
// Workers prefetch whole batches (bounded queue). Decoded images stay in memory where the
// dataset keeps them (ImageFolder's cache budget; CIFAR-10 binary holds all pixels).
//
// Determinism: sample i of epoch e draws its crops, flips and jitter from
// sample_rng(seed, e, i) and the epoch's order from the seed and e alone, so the batches are
// the same whatever the number of threads.
#include <memory>
#include <vector>

#include "data/augment.h"
#include "data/dataset.h"
#include "data/prefetcher.h"
#include "engine/tensor.h"

namespace bt::data {

struct LoaderOptions {
  int64_t batch_size = 256;
  uint64_t seed = 0;
  int threads = 2;        // worker threads
  int prefetch = 4;       // batches made ahead of the consumer
  bool drop_last = true;  // drop the final incomplete batch (training)
  bool shuffle = true;    // a new permutation every epoch
  // Data parallelism: batch_size is the global batch; rank r of `world` gets its rows
  // r·n … (r+1)·n − 1 (n = batch_size / world), a disjoint equal-length shard of the same
  // epoch order. Augmentations depend on the sample index only (sample_rng), so the shards
  // are exactly the rows one process would see.
  int rank = 0, world = 1;
};

struct TwoViewBatch {
  Tensor view1, view2;           // (N, 3, S1, S1), (N, 3, S2, S2) float32, normalised
  std::vector<int64_t> labels;   // (N)
  std::vector<int64_t> indices;  // (N) dataset indices
};

struct EvalBatch {
  Tensor images;                 // (N, 3, S, S) float32, normalised
  std::vector<int64_t> labels;   // (N)
  std::vector<int64_t> indices;  // (N)
};

// The augmentation stream of one sample: Rng(seed).fork(1).fork(epoch · 2⁴⁰ + index).
Rng sample_rng(uint64_t seed, int64_t epoch, int64_t index);

// The dataset order of an epoch: identity, or a Fisher–Yates shuffle drawn from
// Rng(seed).fork(0).fork(epoch).
std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch, bool shuffle);

class TwoViewLoader {
 public:
  TwoViewLoader(std::shared_ptr<const Dataset> dataset, ViewPair views, LoaderOptions options);

  int64_t batches_per_epoch() const;
  int64_t local_batch_size() const { return options_.batch_size / options_.world; }
  // Starts making the batches of `epoch` (abandoning what is left of the previous one);
  // next() returns false until the first call.
  void start_epoch(int64_t epoch);
  // The next batch of the current epoch; false after its last batch.
  bool next(TwoViewBatch& batch);

 private:
  TwoViewBatch make_batch(int64_t epoch, const std::vector<int64_t>& order, int64_t b) const;

  std::shared_ptr<const Dataset> dataset_;
  ViewPair views_;
  LoaderOptions options_;
  std::vector<int64_t> order_;
  Prefetcher<TwoViewBatch> prefetcher_;
};

class EvalLoader {
 public:
  EvalLoader(std::shared_ptr<const Dataset> dataset, EvalTransform transform,
             int64_t batch_size, int threads = 2, int prefetch = 4);

  int64_t num_batches() const;  // the last batch may be smaller
  void reset();                 // restarts at the first batch (the constructor starts a pass)
  bool next(EvalBatch& batch);

 private:
  EvalBatch make_batch(int64_t b) const;

  std::shared_ptr<const Dataset> dataset_;
  EvalTransform transform_;
  int64_t batch_size_;
  int threads_, prefetch_;
  Prefetcher<EvalBatch> prefetcher_;
};

}  // namespace bt::data
