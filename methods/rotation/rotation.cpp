#include "methods/rotation/rotation.h"

#include "engine/ops.h"
#include "methods/rotation/rotate.h"
#include "models/mlp.h"

namespace bt::methods {

RotationPrediction::RotationPrediction(const MethodConfig& config, Rng& rng) : Method(config, rng) {
  head_ = register_module("head", models::make_mlp({.dims = {backbone_->feature_dim(), 4}, .last_bias = true}, rng));
}

Tensor RotationPrediction::loss(const Tensor& view1, const Tensor& /*view2*/) {
  const RotationBatch batch = rotation_batch(view1);
  Tensor features = backbone_->forward(batch.images);
  // The collapse metrics watch the features of the upright images (block k = 0).
  const Tensor upright = features.slice(0, 0, view1.size(0));
  keep_embeddings(upright, upright);
  return cross_entropy(head_->forward(features), batch.labels);
}

MethodEntry rotation_entry() {
  return {.name = "rotation",
          .description = "Rotation prediction (Gidaris et al. 2018): classify which of 4 quarter turns an image got",
          .make = [](const MethodConfig& c, Rng& rng) { return std::make_unique<RotationPrediction>(c, rng); },
          // The paper's SGD, momentum 0.9, weight decay 5e-4, lr 0.1 (its batch 128 of 4×32
          // rotated images; kept at 0.1 per 256 views here, scaled by batch/256 like the
          // others), one lr for every parameter. Views: the weakest preset of data/augment.h,
          // SimSiam's (crop scale 0.2–1, no solarize; the paper used crops and flips only).
          .recipe = {.optimizer = "sgd", .lr = 0.1, .weight_decay = 5e-4, .bias_lr_scale = 1.0, .views = "simsiam"},
          .plots = {.cross_correlation_heatmap = false}};
}

}  // namespace bt::methods
