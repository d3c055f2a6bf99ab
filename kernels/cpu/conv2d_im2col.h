#pragma once
// im2col + GEMM conv2d, float (sgemm) and double (dgemm). With the column matrix of one image
//   col (C·R·S, P·Q):  col[(c·R + r)·S + t][p·Q + q] = x[c, p·sh − ph + r, q·sw − pw + t]  (0 outside x)
// the three passes are GEMMs (formulas in conv2d.h):
//   forward          y[n] (K, PQ)    = w (K, CRS) · col(x[n])
//   backward_data    dcol (CRS, PQ)  = wᵀ · dy[n];   dx[n] = col2im(dcol), the adjoint of im2col
//   backward_weight  dw (K, CRS)     = Σ_n dy[n] · col(x[n])ᵀ
// Images go in chunks of B side by side (one GEMM of B·PQ columns, so 4×4 outputs still make a
// wide GEMM). OpenMP threads take whole chunks, each with its own buffers and a one-thread GEMM;
// with fewer chunks than threads (batch 1) the chunks run in turn on the threaded GEMM instead.
// Buffers persist across calls (no allocation in steady state); calls serialise on a mutex.
// All three OVERWRITE their output (=).
#include "kernels/cpu/conv2d_shape.h"

namespace bt::cpu {

// y (N, K, P, Q) = conv(x (N, C, H, W), w (K, C, R, S))
template <class T>
void conv2d_forward_im2col(const Conv2dShape& s, const T* x, const T* w, T* y);
// dx (N, C, H, W) from dy (N, K, P, Q) and w (K, C, R, S)
template <class T>
void conv2d_backward_data_im2col(const Conv2dShape& s, const T* dy, const T* w, T* dx);
// dw (K, C, R, S) from x (N, C, H, W) and dy (N, K, P, Q)
template <class T>
void conv2d_backward_weight_im2col(const Conv2dShape& s, const T* x, const T* dy, T* dw);

}  // namespace bt::cpu
