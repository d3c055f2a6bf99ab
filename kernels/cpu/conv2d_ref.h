#pragma once
// The conv2d reference: plain loops in the gather form of the formulas in conv2d.h, every
// output element a double accumulator. Slow and obviously right; everything else is tested
// against it. All three OVERWRITE their output (=).
#include "kernels/cpu/conv2d_shape.h"

namespace bt::cpu {

// y (N, K, P, Q) = conv(x (N, C, H, W), w (K, C, R, S))
template <class T>
void conv2d_forward_ref(const Conv2dShape& s, const T* x, const T* w, T* y);
// dx (N, C, H, W) from dy (N, K, P, Q) and w (K, C, R, S)
template <class T>
void conv2d_backward_data_ref(const Conv2dShape& s, const T* dy, const T* w, T* dx);
// dw (K, C, R, S) from x (N, C, H, W) and dy (N, K, P, Q)
template <class T>
void conv2d_backward_weight_ref(const Conv2dShape& s, const T* x, const T* dy, T* dw);

}  // namespace bt::cpu
