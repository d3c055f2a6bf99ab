#pragma once
// SGD with momentum, as torch.optim.SGD (dampening 0); per group lr and weight_decay.
//   d = g + wd·p;  buf = d (first step) or μ·buf + d;  d = d + μ·buf (nesterov) or buf;
//   p -= lr·d        (kernels/cpu/optim_kernels.h, sgd_step)
#include "engine/optim/optimizer.h"

namespace bt::optim {

struct SgdOptions {
  double momentum = 0.9;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<ParamGroup> groups, SgdOptions options = {});
  const SgdOptions options;

 protected:
  std::vector<SlotSpec> slots() const override { return {{"momentum_buffer", false}}; }
  void update(const ParamGroup& group, const std::string& name, const Tensor& p,
              const Tensor& g) override;
};

}  // namespace bt::optim
