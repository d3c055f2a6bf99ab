#pragma once
// What BYOL (methods/byol) and SimSiam (methods/simsiam) share: an online network (backbone,
// projector, predictor) whose prediction of each view regresses a target computed from the
// other view (methods/common/regression_loss.h). They differ in the targets: BYOL's come from
// an EMA copy of the online network, SimSiam's are the online projections, detached.
#include "methods/method.h"
#include "models/mlp.h"

namespace bt::methods {

class PredictorMethod : public Method {
 public:
  nn::Sequential& projector() { return *projector_; }
  nn::Sequential& predictor() { return *predictor_; }

 protected:
  // A head's layout from the config and the head's input width.
  using HeadSpec = models::MlpSpec (*)(const MethodConfig& config, int64_t in);
  // Registers "projector" (on the backbone's features) and "predictor" (on the projections).
  PredictorMethod(const MethodConfig& config, Rng& rng, HeadSpec projector, HeadSpec predictor);

  // The online projections z and predictions p of both views; keeps z1, z2 as the embeddings.
  struct Online {
    Tensor z1, z2, p1, p2;
  };
  Online online(const Tensor& view1, const Tensor& view2);
  // Each view's prediction against the other view's target: byol_loss(p1, t2) + byol_loss(p2, t1).
  static Tensor cross_view_regression(const Online& o, const Tensor& t1, const Tensor& t2);

  std::shared_ptr<nn::Sequential> projector_, predictor_;
};

}  // namespace bt::methods
