#include "engine/nn/linear.h"

#include "engine/ops.h"

namespace bt::nn {

Linear::Linear(int64_t in_features, int64_t out_features, Rng& rng, bool with_bias,
               DType dtype) {
  BT_CHECK(in_features > 0 && out_features > 0, "Linear: features must be positive, got (",
           in_features, ", ", out_features, ")");
  weight = Tensor::empty({out_features, in_features}, dtype);
  if (with_bias) bias = Tensor::empty({out_features}, dtype);
  linear_default_init_(weight, bias, rng);
  register_parameter("weight", weight);
  if (with_bias) register_parameter("bias", bias);
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

}  // namespace bt::nn
