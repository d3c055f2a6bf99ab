#pragma once
// 2-D convolution on the cuda device through cuDNN (cudnn_conv.cpp, built only with the CUDA
// backend): the three passes of bt::cpu::conv2d_* (kernels/cpu/conv2d.h) with the same
// geometry (Conv2dShape: NCHW float32, groups 1, no bias) and the same outputs (=, not +=).
// Device pointers; synchronous with respect to the default stream. Errors: simt::Error.
#include "kernels/cpu/conv2d_shape.h"

namespace bt::cuda {

// y (N, K, P, Q) = x (N, C, H, W) ⋆ w (K, C, R, S)
void cudnn_conv2d_forward(const cpu::Conv2dShape& s, const float* x, const float* w, float* y);
// dx (N, C, H, W) from dy (N, K, P, Q) and w
void cudnn_conv2d_backward_data(const cpu::Conv2dShape& s, const float* dy, const float* w, float* dx);
// dw (K, C, R, S) from x and dy
void cudnn_conv2d_backward_weight(const cpu::Conv2dShape& s, const float* x, const float* dy, float* dw);

}  // namespace bt::cuda
