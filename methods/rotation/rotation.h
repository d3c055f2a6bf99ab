#pragma once
// Rotation prediction (Gidaris, Singh & Komodakis 2018, "Unsupervised representation learning
// by predicting image rotations"): the encoder learns by telling which of 0°, 90°, 180°, 270°
// an image was turned by. The first view of each pair is rotated all four ways in the same
// batch (the paper: feeding the four copies together works best), 4N images per step; the
// second view is not used. Backbone → one Linear (feature → 4 logits, with bias, as the
// rotation head on a ResNet's pre-logits in Kolesnikov et al. 2019) → cross-entropy against
// the rotation's label.
// bt's synthetic data (data/synthetic.h) gives the task little to learn: most of its shapes
// (disk, square, ring, plus, X, frame, checkerboard) look the same after a quarter turn and
// the stripes turn into the other stripe class (bt_train's default synthetic run: loss 1.389,
// log 4 = 1.386, after 2 epochs). Use real images.
#include "methods/registry.h"

namespace bt::methods {

class RotationPrediction : public Method {
 public:
  RotationPrediction(const MethodConfig& config, Rng& rng);
  // Mean over the 4N rotated images of −log softmax(head(backbone(rot_k(view1))))[k].
  Tensor loss(const Tensor& view1, const Tensor& view2) override;
  std::string name() const override { return "rotation"; }
  nn::Sequential& head() { return *head_; }

 private:
  std::shared_ptr<nn::Sequential> head_;
};

MethodEntry rotation_entry();  // "rotation"

}  // namespace bt::methods
