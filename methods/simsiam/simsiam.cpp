#include "methods/simsiam/simsiam.h"

#include "engine/ops.h"

namespace bt::methods {

namespace {
models::MlpSpec projector_spec(const MethodConfig& c, int64_t features) {
  const int64_t d = c.proj_hidden ? c.proj_hidden : scaled_width(2048, c.head_scale);
  const int64_t out = c.proj_out ? c.proj_out : d;
  return {.dims = {features, d, d, out}, .last_bn = true, .last_bn_affine = false};
}

models::MlpSpec predictor_spec(const MethodConfig& c, int64_t dim) {
  const int64_t hidden = c.pred_hidden ? c.pred_hidden : std::max<int64_t>(8, dim / 4);
  return {.dims = {dim, hidden, dim}, .last_bias = true};
}
}  // namespace

SimSiam::SimSiam(const MethodConfig& config, Rng& rng) : PredictorMethod(config, rng, projector_spec, predictor_spec) {}

Tensor SimSiam::loss(const Tensor& view1, const Tensor& view2) {
  const Online o = online(view1, view2);
  // byol_loss = 2 − 2cos, so −½(cos1 + cos2) = (byol1 + byol2)/4 − 1.
  return add(mul(cross_view_regression(o, o.z1.detach(), o.z2.detach()), 0.25), -1.0);
}

MethodEntry simsiam_entry() {
  return {.name = "simsiam",
          .description = "SimSiam (Chen & He 2021): BYOL without the EMA, the target a stop-gradient",
          .make = [](const MethodConfig& c, Rng& rng) { return std::make_unique<SimSiam>(c, rng); },
          // SimSiam's own augmentation (its repository), not SimCLR's stronger jitter that
          // docs/design.md §5 gives it: on CIFAR-10 (bench/cifar10_runs.sh) kNN 43.5 % against
          // 35.7 % after the same 10 epochs.
          .recipe = {.optimizer = "sgd", .lr = 0.5, .weight_decay = 1e-5, .bias_lr_scale = 1.0, .views = "simsiam"},
          .plots = {.cross_correlation_heatmap = false}};
}

}  // namespace bt::methods
