#include "engine/nn/conv2d.h"

#include <cmath>

#include "engine/ops.h"

namespace bt::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Rng& rng,
               int64_t stride_, int64_t padding_, bool with_bias, DType dtype)
    : stride(stride_), padding(padding_) {
  BT_CHECK(in_channels > 0 && out_channels > 0 && kernel_size > 0 && stride > 0 && padding >= 0,
           "Conv2d: invalid configuration in=", in_channels, " out=", out_channels,
           " kernel=", kernel_size, " stride=", stride, " padding=", padding);
  weight = Tensor::empty({out_channels, in_channels, kernel_size, kernel_size}, dtype);
  kaiming_normal_fan_out_(weight, rng);
  register_parameter("weight", weight);
  if (with_bias) {
    bias = Tensor::empty({out_channels}, dtype);
    const double bound = 1.0 / std::sqrt(double(fan_in(weight)));
    uniform_(bias, rng, -bound, bound);
    register_parameter("bias", bias);
  }
}

Tensor Conv2d::forward(const Tensor& x) {
  Tensor y = conv2d(x, weight, stride, padding);
  if (!bias.defined()) return y;
  return y + bias.reshape({1, bias.size(0), 1, 1});  // broadcast over (N, ·, P, Q)
}

}  // namespace bt::nn
