#include "methods/common/predictor_method.h"

#include "engine/ops.h"
#include "methods/common/regression_loss.h"

namespace bt::methods {

PredictorMethod::PredictorMethod(const MethodConfig& config, Rng& rng, HeadSpec projector, HeadSpec predictor)
    : Method(config, rng) {
  const models::MlpSpec proj = projector(config, backbone_->feature_dim());
  projector_ = register_module("projector", models::make_mlp(proj, rng));
  predictor_ = register_module("predictor", models::make_mlp(predictor(config, proj.dims.back()), rng));
}

PredictorMethod::Online PredictorMethod::online(const Tensor& view1, const Tensor& view2) {
  const auto [z1, z2] = embed_views(*projector_, view1, view2);
  return {z1, z2, predictor_->forward(z1), predictor_->forward(z2)};
}

Tensor PredictorMethod::cross_view_regression(const Online& o, const Tensor& t1, const Tensor& t2) {
  return add(byol_loss(o.p1, t2), byol_loss(o.p2, t1));
}

}  // namespace bt::methods
