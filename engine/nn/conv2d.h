#pragma once
// nn.Conv2d (groups = 1, square kernel): x (N, C, H, W) -> (N, K, P, Q); weight (K, C, k, k),
// bias (K) when asked for (torchvision's ResNet convolutions have none).
#include "engine/nn/module.h"
#include "engine/rng.h"

namespace bt::nn {

class Conv2d : public Module {
 public:
  // weight ~ kaiming_normal_(mode="fan_out", nonlinearity="relu") = N(0, 2 / (K·k·k)), as
  // torchvision's ResNet re-initialises every conv; bias ~ U(−1/√fan_in, 1/√fan_in)
  // (PyTorch's Conv2d default, fan_in = C·k·k).
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Rng& rng,
         int64_t stride = 1, int64_t padding = 0, bool bias = false, DType dtype = DType::f32);
  Tensor forward(const Tensor& x) override;

  int64_t stride, padding;
  Tensor weight;  // (K, C, k, k)
  Tensor bias;    // (K) or undefined
};

}  // namespace bt::nn
