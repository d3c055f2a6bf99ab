#pragma once
// Pooling on the CPU over contiguous NCHW buffers.
// `*_ref` are plain loops (bounds checked per tap, sums in double); the versions without the
// suffix are the fast path (OpenMP over the N*C planes, window bounds clamped once per output).
#include <cstdint>

#include "kernels/cpu/channel_layout.h"

namespace bt::cpu {

// A 2-D pooling window: kernel, stride, padding per axis. Floor mode and dilation 1 (PyTorch's
// defaults); padding must satisfy p <= k/2 (PyTorch's rule), so no window is all padding.
struct PoolWindow {
  int64_t kh, kw, sh, sw, ph, pw;
  int64_t out_h(int64_t H) const { return (H + 2 * ph - kh) / sh + 1; }
  int64_t out_w(int64_t W) const { return (W + 2 * pw - kw) / sw + 1; }
};

// Max pool forward. Padding never wins (it acts as −∞); the first maximum in row-major window
// order wins ties; a NaN in the window propagates (the last NaN wins), as in PyTorch.
//   x (N, C, H, W) -> y (N, C, OH, OW) (=)
//   indices (N, C, OH, OW) (=) or nullptr: argmax as the flat offset h*W + w inside its plane
template <class T>
void max_pool2d_forward_ref(int64_t N, int64_t C, int64_t H, int64_t W, const PoolWindow& win,
                            const T* x, T* y, int32_t* indices);
template <class T>
void max_pool2d_forward(int64_t N, int64_t C, int64_t H, int64_t W, const PoolWindow& win,
                        const T* x, T* y, int32_t* indices);

// Max pool backward: dx is zeroed, then every dy lands on its window's argmax (+= inside,
// so overlapping windows add up): overall dx is overwritten (=).
// The reference recomputes the argmax from x; the fast version reads the forward's indices.
//   x (N, C, H, W); dy (N, C, OH, OW); indices (N, C, OH, OW); dx (N, C, H, W) (=)
template <class T>
void max_pool2d_backward_ref(int64_t N, int64_t C, int64_t H, int64_t W, const PoolWindow& win,
                             const T* x, const T* dy, T* dx);
template <class T>
void max_pool2d_backward(int64_t N, int64_t C, int64_t H, int64_t W, const PoolWindow& win,
                         const int32_t* indices, const T* dy, T* dx);

// Global average pool: y[n, c] = mean over H*W of x[n, c, :, :]; x (and dx) in NCHW or nChw16c
// (kernels/cpu/channel_layout.h), y (N, C).
//   x (N, C, H*W) -> y (N, C) (=)
template <class T>
void global_avg_pool_forward_ref(int64_t N, int64_t C, int64_t HW, const T* x, T* y,
                                 ChannelLayout x_layout = ChannelLayout::nchw);
template <class T>
void global_avg_pool_forward(int64_t N, int64_t C, int64_t HW, const T* x, T* y,
                             ChannelLayout x_layout = ChannelLayout::nchw);

// Its backward: dx[n, c, i] = dy[n, c] / HW.
//   dy (N, C) -> dx (N, C, H*W) (=)
template <class T>
void global_avg_pool_backward_ref(int64_t N, int64_t C, int64_t HW, const T* dy, T* dx,
                                  ChannelLayout dx_layout = ChannelLayout::nchw);
template <class T>
void global_avg_pool_backward(int64_t N, int64_t C, int64_t HW, const T* dy, T* dx,
                              ChannelLayout dx_layout = ChannelLayout::nchw);

}  // namespace bt::cpu
