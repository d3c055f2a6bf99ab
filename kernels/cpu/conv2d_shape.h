#pragma once
// The geometry of a 2-D convolution, NCHW, groups = 1, no bias (shared by every conv2d version).
//   x  (N, C, H, W)   input
//   w  (K, C, R, S)   weights: K output channels, an R×S kernel
//   y  (N, K, P, Q)   output, P = (H + 2·pad_h − R) / stride_h + 1, Q = (W + 2·pad_w − S) / stride_w + 1
#include <compare>
#include <cstdint>
#include <string>

#include "kernels/cpu/channel_layout.h"

namespace bt::cpu {

struct Conv2dShape {
  int64_t N = 1, C = 1, H = 1, W = 1;
  int64_t K = 1, R = 1, S = 1;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;

  int64_t P() const { return (H + 2 * pad_h - R) / stride_h + 1; }
  int64_t Q() const { return (W + 2 * pad_w - S) / stride_w + 1; }
  int64_t x_size() const { return N * C * H * W; }
  int64_t w_size() const { return K * C * R * S; }
  int64_t y_size() const { return N * K * P() * Q(); }
  // Multiply-adds × 2 of one pass; forward, backward_data and backward_weight all cost the same.
  double flops() const { return 2.0 * double(N * K * P() * Q()) * double(C * R * S); }
  // Positive sizes and strides, pads ≥ 0, output at least 1×1.
  bool valid() const;
  std::string str() const;  // e.g. "N2 C3 H7 W9 K5 3x3 s1x1 p1x1"

  auto operator<=>(const Conv2dShape&) const = default;
};

// dnnl_bf16: oneDNN direct convolution on bf16 copies of the two inputs, accumulating and writing
// float32 (the --precision bf16 compute of conv2d).
enum class ConvAlgo { reference, im2col, dnnl_direct, dnnl_auto, dnnl_bf16 };
enum class ConvPass { forward, backward_data, backward_weight };
// The layouts of the activations: x and dx in `x`, y and dy in `y` (weights are always KCRS).
// Only the oneDNN versions take nChw16c (kernels/cpu/channel_layout.h).
struct ConvLayouts {
  ChannelLayout x = ChannelLayout::nchw, y = ChannelLayout::nchw;
  auto operator<=>(const ConvLayouts&) const = default;
};
// The bf16 roundings (kernels/cpu/bf16.h) of x and dy that a caller already has, each in its
// ConvLayouts layout: a dnnl_bf16 pass reads them in place of rounding copies of the float32
// ones. nullptr: none; the other versions ignore them.
struct Bf16Activations {
  const uint16_t* x = nullptr;
  const uint16_t* dy = nullptr;
};

const char* to_string(ConvAlgo algo);  // "reference", "im2col", "dnnl_direct", "dnnl_auto", "dnnl_bf16"
const char* to_string(ConvPass pass);  // "fwd", "bwd_data", "bwd_weight"

}  // namespace bt::cpu
