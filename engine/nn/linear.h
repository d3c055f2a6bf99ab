#pragma once
// nn.Linear: y = x Wᵀ + b, x (N, in) -> (N, out); weight (out, in), bias (out).
#include "engine/nn/module.h"
#include "engine/rng.h"

namespace bt::nn {

class Linear : public Module {
 public:
  // PyTorch's default init: weight and bias ~ U(−1/√in, 1/√in) (linear_default_init_).
  Linear(int64_t in_features, int64_t out_features, Rng& rng, bool bias = true,
         DType dtype = DType::f32);
  Tensor forward(const Tensor& x) override;

  Tensor weight;  // (out, in)
  Tensor bias;    // (out) or undefined
};

}  // namespace bt::nn
