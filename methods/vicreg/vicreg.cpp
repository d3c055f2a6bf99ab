#include "methods/vicreg/vicreg.h"

#include "methods/vicreg/vicreg_loss.h"
#include "models/mlp.h"

namespace bt::methods {

Vicreg::Vicreg(const MethodConfig& config, Rng& rng) : Method(config, rng) {
  const int64_t hidden = config.proj_hidden ? config.proj_hidden : scaled_width(2048, config.head_scale);
  const int64_t out = config.proj_out ? config.proj_out : scaled_width(2048, config.head_scale);
  // The reference expander (facebookresearch/vicreg, main_vicreg.py Projector): hidden Linears
  // with bias, the last without.
  expander_ = register_module("projector", models::make_mlp({.dims = {backbone_->feature_dim(), hidden, hidden, out},
                                                             .hidden_bias = true},
                                                            rng));
}

Tensor Vicreg::loss(const Tensor& view1, const Tensor& view2) {
  const auto [z1, z2] = embed_views(*expander_, view1, view2);
  // Variances and covariances of the global batch when data-parallel.
  return group_->world_size() > 1 ? vicreg_loss_dist(z1, z2, weights_, *group_) : vicreg_loss(z1, z2, weights_);
}

MethodEntry vicreg_entry() {
  return {.name = "vicreg",
          .description = "VICReg (Bardes et al. 2022): invariance, variance and covariance terms on the embeddings",
          .make = [](const MethodConfig& c, Rng& rng) { return std::make_unique<Vicreg>(c, rng); },
          // The paper's LARS at base lr 0.2 per 256 images (scaled by batch/256 as Barlow
          // Twins'), weight decay 1e-6, one lr for every parameter; Barlow Twins' views.
          .recipe = {.optimizer = "lars", .lr = 0.2, .weight_decay = 1e-6, .bias_lr_scale = 1.0,
                     .views = "asymmetric"},
          .plots = {.cross_correlation_heatmap = false}};
}

}  // namespace bt::methods
