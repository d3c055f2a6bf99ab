#pragma once
// BYOL's target-network update: target ← τ·target + (1 − τ)·online for each pair of tensors
// (pass target.parameters() and online.parameters(), which list in the same order for two
// modules of the same architecture). In place, outside autograd.
#include <vector>

#include "engine/tensor.h"

namespace bt::optim {

void ema_update_(const std::vector<Tensor>& target, const std::vector<Tensor>& online,
                 double tau);

}  // namespace bt::optim
