#pragma once
// BYOL (Grill et al. 2020): an online network with a predictor regresses a target network's
// projection of the other view (methods/common/predictor_method.h); the target gets no
// gradient. The target is the EMA of the online backbone + projector,
// τ = 1 − (1 − τ_base)(cos(πk/K)+1)/2, BN running statistics copied.
// Projector feature → 4096 → 256, predictor 256 → 4096 → 256.
#include "methods/common/predictor_method.h"
#include "methods/registry.h"

namespace bt::methods {

class Byol : public PredictorMethod {
 public:
  Byol(const MethodConfig& config, Rng& rng);
  // Σ over both view orders of mean(2 − 2 cos(p, t)).
  Tensor loss(const Tensor& view1, const Tensor& view2) override;
  void after_step(int64_t step, int64_t total_steps) override;
  nn::NamedTensors trainable_parameters() const override;
  std::string name() const override { return "byol"; }

  const std::shared_ptr<models::ResNet>& target_backbone() const { return target_backbone_; }
  const std::shared_ptr<nn::Sequential>& target_projector() const { return target_projector_; }
  double last_tau() const { return last_tau_; }

 private:
  double last_tau_ = 0;
  std::shared_ptr<models::ResNet> target_backbone_;
  std::shared_ptr<nn::Sequential> target_projector_;
};

MethodEntry byol_entry();  // "byol"

}  // namespace bt::methods
