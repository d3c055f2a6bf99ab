#pragma once
// Linear probe: multinomial logistic regression on frozen features (the standard linear
// evaluation of self-supervised representations, here on pre-extracted features).
//   x̃ = (x − μ_train) / σ_train   (per feature; σ = 0 → 1), logits = x̃ Wᵀ + b,
//   loss = mean cross-entropy; SGD (momentum 0.9) or AdamW, lr by cosine decay to 0 over
//   all steps (no warmup); weight decay on W only.
#include <cstdint>
#include <string>

#include "tools/lib/features.h"

namespace bt::tools {

struct ProbeOptions {
  int64_t epochs = 100;
  int64_t batch = 256;
  std::string optimizer = "sgd";  // "sgd" or "adamw"
  double lr = 0.1;                // peak learning rate
  double weight_decay = 0.0;
  uint64_t seed = 0;  // initialisation and the per-epoch shuffles
};

struct ProbeResult {
  double train_top1 = 0;  // fractions in [0, 1], measured after the last epoch
  double test_top1 = 0;
  double final_loss = 0;  // mean training loss of the last epoch
};

// Trains on `train` (its features also give μ, σ) and measures top-1 on both sets.
// Labels in [0, num_classes). Throws bt::Error on bad options or inconsistent inputs.
ProbeResult linear_probe(const Features& train, const Features& test, int64_t num_classes,
                         const ProbeOptions& options = {});

}  // namespace bt::tools
