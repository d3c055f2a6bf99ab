#pragma once
// VICReg (Bardes, Ponce & LeCun 2022): invariance (MSE between the views' embeddings), variance
// (a hinge keeping each dimension's standard deviation at γ = 1) and covariance (decorrelating
// the dimensions), λ = μ = 25, ν = 1 (methods/vicreg/vicreg_loss.h). Expander like Barlow Twins'
// projector: 2048-2048-2048 at head scale 1 (the paper's 8192 on ImageNet; solo-learn's CIFAR
// config has 2048), Linear-BN-ReLU twice, then a plain Linear.
#include "engine/fused_ssl.h"
#include "methods/registry.h"

namespace bt::methods {

class Vicreg : public Method {
 public:
  Vicreg(const MethodConfig& config, Rng& rng);
  Tensor loss(const Tensor& view1, const Tensor& view2) override;
  std::string name() const override { return "vicreg"; }
  const VicregWeights& weights() const { return weights_; }

 private:
  std::shared_ptr<nn::Sequential> expander_;
  VicregWeights weights_;  // the paper's λ, μ, ν, γ, ε
};

MethodEntry vicreg_entry();  // "vicreg"

}  // namespace bt::methods
