#include "methods/barlow_twins/barlow_twins.h"

#include "methods/barlow_twins/barlow_twins_loss.h"
#include "models/mlp.h"

namespace bt::methods {

BarlowTwins::BarlowTwins(const MethodConfig& config, Rng& rng) : Method(config, rng) {
  const int64_t hidden = config.proj_hidden ? config.proj_hidden : scaled_width(2048, config.head_scale);
  const int64_t out = config.proj_out ? config.proj_out : scaled_width(2048, config.head_scale);
  projector_ = register_module(
      "projector", models::make_mlp({.dims = {backbone_->feature_dim(), hidden, hidden, out}}, rng));
  lambda_ = config.bt_lambda_auto ? barlow_twins_auto_lambda(out) : config.bt_lambda;
}

Tensor BarlowTwins::loss(const Tensor& view1, const Tensor& view2) {
  const auto [z1, z2] = embed_views(*projector_, view1, view2);
  // Over the global batch when data-parallel (methods/barlow_twins/barlow_twins_loss.h).
  return group_->world_size() > 1 ? barlow_twins_loss_dist(z1, z2, lambda_, *group_) : barlow_twins_loss(z1, z2, lambda_);
}

MethodEntry barlow_twins_entry() {
  return {.name = "barlow",
          .description = "Barlow Twins (Zbontar et al. 2021): cross-correlation of the views made the identity",
          .make = [](const MethodConfig& c, Rng& rng) { return std::make_unique<BarlowTwins>(c, rng); },
          // Its own lr for the biases and BN parameters (0.0048 against 0.2 for the weights).
          .recipe = {.optimizer = "lars", .lr = 0.3, .weight_decay = 1e-4, .bias_lr_scale = 0.0048 / 0.2,
                     .views = "asymmetric"},
          .plots = {.cross_correlation_heatmap = true}};
}

}  // namespace bt::methods
