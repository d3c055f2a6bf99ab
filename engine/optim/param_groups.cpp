#include "engine/optim/param_groups.h"

namespace bt::optim {

std::vector<ParamGroup> decay_groups(const nn::NamedTensors& params, double weight_decay,
                                     double bias_lr_scale) {
  ParamGroup weights{{}, 0.0, 1.0, weight_decay, false};
  ParamGroup biases{{}, 0.0, bias_lr_scale, 0.0, true};
  for (const auto& entry : params)
    (entry.second.dim() >= 2 ? weights : biases).params.push_back(entry);
  std::vector<ParamGroup> groups;
  if (!weights.params.empty()) groups.push_back(std::move(weights));
  if (!biases.params.empty()) groups.push_back(std::move(biases));
  return groups;
}

}  // namespace bt::optim
