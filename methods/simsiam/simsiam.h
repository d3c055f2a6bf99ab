#pragma once
// SimSiam (Chen & He 2021): BYOL without the EMA (methods/common/predictor_method.h): the
// target is the online network's own projection of the other view, detached.
// Projector 2048-2048-2048 with a final BN without affine, predictor 2048 → 512 → 2048.
#include "methods/common/predictor_method.h"
#include "methods/registry.h"

namespace bt::methods {

class SimSiam : public PredictorMethod {
 public:
  SimSiam(const MethodConfig& config, Rng& rng);
  // −½ (cos(p1, z2) + cos(p2, z1)), z the detached projections.
  Tensor loss(const Tensor& view1, const Tensor& view2) override;
  std::string name() const override { return "simsiam"; }
};

MethodEntry simsiam_entry();  // "simsiam"

}  // namespace bt::methods
