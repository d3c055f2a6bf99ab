#pragma once
// AdamW (Loshchilov & Hutter 2019) as torch.optim.AdamW (amsgrad off), per group lr and wd:
//   step += 1;  p = p·(1 − lr·wd)
//   m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
//   p -= lr/(1 − β1^step) · m / (√v/√(1 − β2^step) + eps)     (eps outside the square root)
// The step count is per parameter (a CPU f64 scalar slot), as in PyTorch.
#include "engine/optim/optimizer.h"

namespace bt::optim {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options = {});
  const AdamWOptions options;

 protected:
  std::vector<SlotSpec> slots() const override {
    return {{"exp_avg", false}, {"exp_avg_sq", false}, {"step", true}};
  }
  void update(const ParamGroup& group, const std::string& name, const Tensor& p,
              const Tensor& g) override;
};

}  // namespace bt::optim
