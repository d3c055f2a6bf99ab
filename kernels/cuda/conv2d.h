#pragma once
// Direct 2-D convolution on the device (conv2d.cu): the three passes of bt::cpu::conv2d_*
// (kernels/cpu/conv2d.h) with the same geometry (Conv2dShape: NCHW float32, groups 1, no bias)
// and outputs (=, not +=). The simt device's stand-in for cuDNN (the cuda device keeps cuDNN,
// kernels/cuda/cudnn_conv.h): one thread per output element, a grid-stride loop, each summing its
// window in float. Readable rather than fast; validated against kernels/cpu/conv2d_ref. See
// backend.h for B and stream.
#include "kernels/cpu/conv2d_shape.h"
#include "kernels/cuda/backend.h"

namespace bt::cuda {

// y (N, K, P, Q) = x (N, C, H, W) ⋆ w (K, C, R, S)
template <class B>
void conv2d_forward(const cpu::Conv2dShape& s, const float* x, const float* w, float* y, void* stream);
// dx (N, C, H, W) from dy (N, K, P, Q) and w
template <class B>
void conv2d_backward_data(const cpu::Conv2dShape& s, const float* dy, const float* w, float* dx, void* stream);
// dw (K, C, R, S) from x and dy
template <class B>
void conv2d_backward_weight(const cpu::Conv2dShape& s, const float* x, const float* dy, float* dw, void* stream);

}  // namespace bt::cuda
