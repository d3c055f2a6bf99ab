#pragma once
// Barlow Twins (Zbontar et al. 2021): make the cross-correlation of the two views' embeddings
// the identity. Projector 2048-2048-2048 (Linear without bias, BN, ReLU; last Linear plain).
#include "methods/registry.h"

namespace bt::methods {

class BarlowTwins : public Method {
 public:
  BarlowTwins(const MethodConfig& config, Rng& rng);
  Tensor loss(const Tensor& view1, const Tensor& view2) override;
  std::string name() const override { return "barlow"; }
  double lambda() const { return lambda_; }

 private:
  std::shared_ptr<nn::Sequential> projector_;
  double lambda_;
};

MethodEntry barlow_twins_entry();  // "barlow"

}  // namespace bt::methods
