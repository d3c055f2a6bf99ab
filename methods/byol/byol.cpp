#include "methods/byol/byol.h"

#include "engine/autograd.h"
#include "engine/optim/ema.h"
#include "engine/optim/schedule.h"

namespace bt::methods {

namespace {
constexpr const char* kTargetPrefix = "target_";

models::MlpSpec projector_spec(const MethodConfig& c, int64_t features) {
  const int64_t hidden = c.proj_hidden ? c.proj_hidden : scaled_width(4096, c.head_scale);
  const int64_t out = c.proj_out ? c.proj_out : 256;
  return {.dims = {features, hidden, out}, .hidden_bias = true, .last_bias = true};
}

models::MlpSpec predictor_spec(const MethodConfig& c, int64_t dim) {
  const int64_t hidden = c.pred_hidden ? c.pred_hidden : scaled_width(4096, c.head_scale);
  return {.dims = {dim, hidden, dim}, .hidden_bias = true, .last_bias = true};
}
}  // namespace

Byol::Byol(const MethodConfig& config, Rng& rng) : PredictorMethod(config, rng, projector_spec, predictor_spec) {
  // The target starts as a copy of the online network and is never trained by gradients.
  target_backbone_ = register_module(std::string(kTargetPrefix) + "backbone",
                                     std::make_shared<models::ResNet>(config.backbone, rng));
  target_projector_ = register_module(std::string(kTargetPrefix) + "projector",
                                      models::make_mlp(projector_spec(config, backbone_->feature_dim()), rng));
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
  const Online o = online(view1, view2);
  Tensor t1, t2;
  {
    NoGradGuard no_grad;
    t1 = target_projector_->forward(target_backbone_->forward(view1));
    t2 = target_projector_->forward(target_backbone_->forward(view2));
  }
  return cross_view_regression(o, t1, t2);
}

void Byol::after_step(int64_t step, int64_t total_steps) {
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
          .make = [](const MethodConfig& c, Rng& rng) { return std::make_unique<Byol>(c, rng); },
          .recipe = {.optimizer = "lars", .lr = 1.0, .weight_decay = 1e-5, .bias_lr_scale = 1.0,
                     .views = "asymmetric"},
          .plots = {.cross_correlation_heatmap = false}};
}

}  // namespace bt::methods
