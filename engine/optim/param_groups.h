#pragma once
// The SSL recipes' parameter grouping (docs/design.md §5): parameters with one dimension (BN weights
// and biases, Linear/Conv biases) get no weight decay and no LARS adaptation, and may get
// their own lr multiplier (Barlow Twins: lr 0.0048 for biases vs 0.2 for weights).
#include "engine/optim/optimizer.h"

namespace bt::optim {

// Returns up to two groups, in parameter order within each, empty groups dropped:
//   [0] dim ≥ 2: lr_scale 1, weight_decay, adapted
//   [1] dim ≤ 1: lr_scale bias_lr_scale, weight decay 0, exclude_from_adaptation
// The groups' lr is left to the optimizer's set_lr (the schedule: lr = base·lr_scale), the one
// writer of it; until then it is 0.
std::vector<ParamGroup> decay_groups(const nn::NamedTensors& params, double weight_decay,
                                     double bias_lr_scale = 1.0);

}  // namespace bt::optim
