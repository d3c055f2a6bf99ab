#pragma once
// Pooling on the device (pool.cu), float32 over contiguous NCHW buffers, mirroring
// kernels/cpu/pool.h (its `*_ref` are the test oracles). The window is bt::cpu::PoolWindow:
// floor mode, dilation 1, padding p <= k/2 (so no window is all padding). See backend.h for B
// and stream; pointers are device pointers (host pointers for Simt).
#include <cstdint>

#include "kernels/cpu/pool.h"
#include "kernels/cuda/backend.h"

namespace bt::cuda {

// Max pool forward. Padding never wins; the first maximum in row-major window order wins ties;
// a NaN in the window propagates (the last NaN wins), as in PyTorch.
//   x (N, C, H, W) -> y (N, C, OH, OW) (=)
//   indices (N, C, OH, OW) (=) or nullptr: the argmax as the flat offset h*W + w in its plane
template <class B>
void max_pool2d_forward(int64_t N, int64_t C, int64_t H, int64_t W, const cpu::PoolWindow& win,
                        const float* x, float* y, int32_t* indices, void* stream);

// Max pool backward from the forward's indices: dx[p, i] = Σ dy[p, o] over the outputs o of
// plane p whose argmax is i (overlapping windows add up); every dx is written (=), zeros
// included. A gather (one thread per input element), so no atomics and a fixed summation order.
//   indices, dy (N, C, OH, OW) -> dx (N, C, H, W) (=)
template <class B>
void max_pool2d_backward(int64_t N, int64_t C, int64_t H, int64_t W, const cpu::PoolWindow& win,
                         const int32_t* indices, const float* dy, float* dx, void* stream);

// Global average pool: y[n, c] = mean over HW of x[n, c, :].  x (N, C, HW) -> y (N, C) (=)
template <class B>
void global_avg_pool_forward(int64_t N, int64_t C, int64_t HW, const float* x, float* y,
                             void* stream);

// Its backward: dx[n, c, i] = dy[n, c] / HW.  dy (N, C) -> dx (N, C, HW) (=)
template <class B>
void global_avg_pool_backward(int64_t N, int64_t C, int64_t HW, const float* dy, float* dx,
                              void* stream);

}  // namespace bt::cuda
