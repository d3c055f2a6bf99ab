#include "engine/optim/param_groups.h"

namespace bt::optim {

std::vector<ParamGroup> split_decay_groups(const nn::NamedTensors& params, double base_lr,
                                           double weight_decay, double bias_lr_scale) {
  ParamGroup weights{{}, base_lr, 1.0, weight_decay, false};
  ParamGroup biases{{}, base_lr * bias_lr_scale, bias_lr_scale, 0.0, true};
  for (const auto& entry : params)
    (entry.second.dim() >= 2 ? weights : biases).params.push_back(entry);
  std::vector<ParamGroup> groups;
  if (!weights.params.empty()) groups.push_back(std::move(weights));
  if (!biases.params.empty()) groups.push_back(std::move(biases));
  return groups;
}

}  // namespace bt::optim
