#pragma once
// SimCLR (Chen et al. 2020): NT-Xent over the two views' normalised projections.
// Projector feature → 2048 (BN, ReLU) → 128.
#include "methods/registry.h"

namespace bt::methods {

// NT-Xent's τ on CIFAR (the paper: 0.5; 0.1 on ImageNet), when MethodConfig::temperature is unset.
constexpr double kSimclrTemperature = 0.5;

class SimClr : public Method {
 public:
  SimClr(const MethodConfig& config, Rng& rng);
  Tensor loss(const Tensor& view1, const Tensor& view2) override;
  std::string name() const override { return "simclr"; }

 private:
  std::shared_ptr<nn::Sequential> projector_;
};

MethodEntry simclr_entry();  // "simclr"

}  // namespace bt::methods
