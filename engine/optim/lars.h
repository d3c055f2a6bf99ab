#pragma once
// LARS (You et al. 2017, "Large Batch Training of Convolutional Networks", eq. 6) in the form
// of the Barlow Twins repository (facebookresearch/barlowtwins, main.py, class LARS), with
// solo-learn's optional lr clipping (solo/utils/lars.py, clip_lars_lr). For a parameter p with
// gradient g in a group with lr and weight decay wd:
//
//   not excluded:  d = g + wd·p
//                  q = η·‖p‖/‖d‖ if ‖p‖ > 0 and ‖d‖ > 0, else 1
//                  clip_lr: q = min(q / lr, 1)      (the step lr·q never exceeds lr)
//                  d = q·d
//   excluded:      d = g                            (group.exclude_from_adaptation: BN and
//                                                    bias parameters — no decay, no q)
//   buf = μ·buf + d   (buf starts at zero, so buf = d on the first step)
//   p  -= lr·buf
//
// Differences from solo-learn, which uses q = η‖p‖ / (‖g‖ + wd‖p‖ + 1e-8) (an upper bound of
// ‖g + wd·p‖ by the triangle inequality) and adds wd·p only when both norms are nonzero: we
// follow the Barlow Twins repository's ‖g + wd·p‖. No nesterov, dampening 0 (neither repo
// uses them for SSL).
#include "engine/optim/optimizer.h"

namespace bt::optim {

struct LarsOptions {
  double momentum = 0.9;
  double eta = 0.001;    // trust coefficient (official ImageNet; solo-learn CIFAR uses 0.02)
  bool clip_lr = false;  // solo-learn's clip_lars_lr
};

class LARS : public Optimizer {
 public:
  LARS(std::vector<ParamGroup> groups, LarsOptions options = {});
  const LarsOptions options;

 protected:
  std::vector<SlotSpec> slots() const override { return {{"momentum_buffer", false}}; }
  void update(const ParamGroup& group, const std::string& name, const Tensor& p,
              const Tensor& g) override;
};

}  // namespace bt::optim
