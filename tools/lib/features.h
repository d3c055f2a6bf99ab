#pragma once
// Frozen-backbone features for evaluation (kNN monitor, linear probe, --dump-features).
#include <cstdint>
#include <vector>

#include "data/augment.h"
#include "data/dataset.h"
#include "engine/tensor.h"
#include "models/resnet.h"

namespace bt::tools {

struct Features {
  Tensor feats;                 // (N, F) float32, CPU; row i is sample i of the dataset
  std::vector<int64_t> labels;  // (N)
};

// Runs every sample of `dataset` (in order, through the eval view `transform`) through the
// backbone in eval mode (BN running statistics) with gradient recording off, `batch` images
// at a time, decoding with `threads` loader threads. The backbone's train/eval mode is
// restored afterwards, also when this throws. Inputs go to the device of the backbone's
// parameters; the features come back to the CPU.
Features extract_features(models::ResNet& backbone, const data::Dataset& dataset,
                          const data::EvalTransform& transform, int64_t batch, int threads);

}  // namespace bt::tools
