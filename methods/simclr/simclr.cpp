#include "methods/simclr/simclr.h"

#include "methods/simclr/simclr_loss.h"
#include "models/mlp.h"

namespace bt::methods {

SimClr::SimClr(const MethodConfig& config, Rng& rng) : Method(config, rng) {
  const int64_t hidden = config.proj_hidden ? config.proj_hidden : scaled_width(2048, config.head_scale);
  const int64_t out = config.proj_out ? config.proj_out : 128;
  projector_ = register_module(
      "projector", models::make_mlp({.dims = {backbone_->feature_dim(), hidden, out}, .hidden_bias = true,
                                     .last_bias = true}, rng));
}

Tensor SimClr::loss(const Tensor& view1, const Tensor& view2) {
  const auto [z1, z2] = embed_views(*projector_, view1, view2);
  // Over the global batch when data-parallel (methods/simclr/simclr_loss.h).
  const double tau = config_.temperature.value_or(kSimclrTemperature);
  return group_->world_size() > 1 ? nt_xent_loss_dist(z1, z2, tau, *group_) : nt_xent_loss(z1, z2, tau);
}

MethodEntry simclr_entry() {
  return {.name = "simclr",
          .description = "SimCLR (Chen et al. 2020): NT-Xent contrastive loss over the batch",
          .make = [](const MethodConfig& c, Rng& rng) { return std::make_unique<SimClr>(c, rng); },
          .recipe = {.optimizer = "lars", .lr = 0.4, .weight_decay = 1e-4, .bias_lr_scale = 1.0,
                     .views = "symmetric", .temperature = kSimclrTemperature},
          .plots = {.cross_correlation_heatmap = false}};
}

}  // namespace bt::methods
