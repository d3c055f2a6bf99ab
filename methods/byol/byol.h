#pragma once
// BYOL (Grill et al. 2020) and SimSiam (Chen & He 2021): an online network with a predictor
// regresses a target network's projection of the other view; the target gets no gradient.
//   BYOL:    target = EMA of the online backbone + projector, τ = 1 − (1 − τ_base)(cos(πk/K)+1)/2,
//            BN running statistics copied. Projector feature → 4096 → 256, predictor 256 → 4096 → 256.
//   SimSiam: target = the online network itself, detached (no EMA). Projector 2048-2048-2048
//            with a final BN without affine, predictor 2048 → 512 → 2048.
#include "methods/registry.h"

namespace bt::methods {

class Byol : public Method {
 public:
  Byol(const MethodConfig& config, Rng& rng, bool simsiam);
  // BYOL: Σ over both view orders of mean(2 − 2 cos(p, t)).
  // SimSiam: −½ (cos(p1, z2) + cos(p2, z1)), z the detached projections.
  Tensor loss(const Tensor& view1, const Tensor& view2) override;
  void after_step(int64_t step, int64_t total_steps) override;
  nn::NamedTensors trainable_parameters() const override;
  std::string name() const override { return simsiam_ ? "simsiam" : "byol"; }

  // BYOL's target network (null for SimSiam).
  const std::shared_ptr<models::ResNet>& target_backbone() const { return target_backbone_; }
  const std::shared_ptr<nn::Sequential>& target_projector() const { return target_projector_; }
  nn::Sequential& projector() { return *projector_; }
  double last_tau() const { return last_tau_; }

 private:
  bool simsiam_;
  double last_tau_ = 0;
  std::shared_ptr<nn::Sequential> projector_, predictor_;
  std::shared_ptr<models::ResNet> target_backbone_;
  std::shared_ptr<nn::Sequential> target_projector_;
};

MethodEntry byol_entry();     // "byol"
MethodEntry simsiam_entry();  // "simsiam"

}  // namespace bt::methods
