#include "methods/byol/byol.h"

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/optim/ema.h"
#include "engine/optim/schedule.h"
#include "methods/ssl_losses.h"
#include "models/mlp.h"

namespace bt::methods {

namespace {
constexpr const char* kTargetPrefix = "target_";

models::MlpSpec projector_spec(const MethodConfig& c, int64_t features, bool simsiam) {
  if (simsiam) {
    const int64_t d = c.proj_hidden ? c.proj_hidden : scaled_width(2048, c.head_scale);
    const int64_t out = c.proj_out ? c.proj_out : d;
    return {.dims = {features, d, d, out}, .last_bn = true, .last_bn_affine = false};
  }
  const int64_t hidden = c.proj_hidden ? c.proj_hidden : scaled_width(4096, c.head_scale);
  const int64_t out = c.proj_out ? c.proj_out : 256;
  return {.dims = {features, hidden, out}, .hidden_bias = true, .last_bias = true};
}

models::MlpSpec predictor_spec(const MethodConfig& c, int64_t dim, bool simsiam) {
  if (simsiam) {
    const int64_t hidden = c.pred_hidden ? c.pred_hidden : std::max<int64_t>(8, dim / 4);
    return {.dims = {dim, hidden, dim}, .last_bias = true};
  }
  const int64_t hidden = c.pred_hidden ? c.pred_hidden : scaled_width(4096, c.head_scale);
  return {.dims = {dim, hidden, dim}, .hidden_bias = true, .last_bias = true};
}
}  // namespace

Byol::Byol(const MethodConfig& config, Rng& rng, bool simsiam) : Method(config, rng), simsiam_(simsiam) {
  const models::MlpSpec proj = projector_spec(config, backbone_->feature_dim(), simsiam);
  projector_ = register_module("projector", models::make_mlp(proj, rng));
  predictor_ = register_module("predictor", models::make_mlp(predictor_spec(config, proj.dims.back(), simsiam), rng));
  if (simsiam) return;
  // The target starts as a copy of the online network and is never trained by gradients.
  target_backbone_ = register_module(std::string(kTargetPrefix) + "backbone",
                                     std::make_shared<models::ResNet>(config.backbone, rng));
  target_projector_ = register_module(std::string(kTargetPrefix) + "projector", models::make_mlp(proj, rng));
  target_backbone_->load_state_dict(backbone_->state_dict());
  target_projector_->load_state_dict(projector_->state_dict());
  for (Tensor& p : target_backbone_->parameters()) p.requires_grad_(false);
  for (Tensor& p : target_projector_->parameters()) p.requires_grad_(false);
}

nn::NamedTensors Byol::trainable_parameters() const {
  nn::NamedTensors out;
  for (auto& [name, p] : named_parameters())
    if (name.rfind(kTargetPrefix, 0) != 0) out.emplace_back(name, p);
  return out;
}

Tensor Byol::loss(const Tensor& view1, const Tensor& view2) {
  Tensor z1 = projector_->forward(backbone_->forward(view1));
  Tensor z2 = projector_->forward(backbone_->forward(view2));
  Tensor p1 = predictor_->forward(z1), p2 = predictor_->forward(z2);
  keep_embeddings(z1, z2);
  if (simsiam_) {
    // byol_loss = 2 − 2cos, so −½(cos1 + cos2) = (byol1 + byol2)/4 − 1.
    Tensor both = add(byol_loss(p1, z2.detach()), byol_loss(p2, z1.detach()));
    return add(mul(both, 0.25), -1.0);
  }
  Tensor t1, t2;
  {
    NoGradGuard no_grad;
    t1 = target_projector_->forward(target_backbone_->forward(view1));
    t2 = target_projector_->forward(target_backbone_->forward(view2));
  }
  return add(byol_loss(p1, t2), byol_loss(p2, t1));
}

void Byol::after_step(int64_t step, int64_t total_steps) {
  if (simsiam_) return;
  last_tau_ = optim::ByolTau{config_.byol_tau_base, std::max<int64_t>(total_steps, 1)}(step);
  optim::ema_update_(target_backbone_->parameters(), backbone_->parameters(), last_tau_);
  optim::ema_update_(target_projector_->parameters(), projector_->parameters(), last_tau_);
  // BN running statistics are copied, not averaged.
  NoGradGuard no_grad;
  const auto copy_buffers = [](nn::Module& target, nn::Module& online) {
    auto t = target.buffers(), o = online.buffers();
    for (size_t i = 0; i < t.size(); ++i) t[i].copy_(o[i]);
  };
  copy_buffers(*target_backbone_, *backbone_);
  copy_buffers(*target_projector_, *projector_);
}

MethodEntry byol_entry() {
  return {.name = "byol",
          .description = "BYOL (Grill et al. 2020): predict an EMA target network's projection of the other view",
          .make = [](const MethodConfig& c, Rng& rng) { return std::make_unique<Byol>(c, rng, /*simsiam=*/false); },
          .recipe = {.optimizer = "lars", .lr = 1.0, .weight_decay = 1e-5, .bias_lr_scale = 1.0,
                     .views = "asymmetric"},
          .plots = {.cross_correlation_heatmap = false}};
}

MethodEntry simsiam_entry() {
  return {.name = "simsiam",
          .description = "SimSiam (Chen & He 2021): BYOL without the EMA, the target a stop-gradient",
          .make = [](const MethodConfig& c, Rng& rng) { return std::make_unique<Byol>(c, rng, /*simsiam=*/true); },
          // SimSiam's own augmentation (its repository), not SimCLR's stronger jitter that
          // docs/design.md §5 gives it: on CIFAR-10 (bench/cifar10_runs.sh) kNN 43.5 % against
          // 35.7 % after the same 10 epochs.
          .recipe = {.optimizer = "sgd", .lr = 0.5, .weight_decay = 1e-5, .bias_lr_scale = 1.0, .views = "simsiam"},
          .plots = {.cross_correlation_heatmap = false}};
}

}  // namespace bt::methods
