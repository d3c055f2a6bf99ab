#pragma once
// L2 normalization of the rows of a contiguous (N, D) float32 buffer on the device
// (normalize.cu), mirroring kernels/cpu/normalize.h (its `*_ref` are the test oracles): as
// torch.nn.functional.normalize (p = 2, dim = 1), y = x / max(‖x‖, eps). See backend.h for B
// and stream; pointers are device pointers (host pointers for Simt).
#include <cstdint>

#include "kernels/cuda/backend.h"

namespace bt::cuda {

//   x (N, D) -> y (N, D) (=); y == x allowed.
template <class B>
void l2_normalize_forward(int64_t N, int64_t D, const float* x, float eps, float* y,
                          void* stream);

// Backward, recomputing the row norms n = ‖x‖ from x:
//   n > eps:  dx = (dy − y (y·dy)) / n = dy/n − x (x·dy)/n³
//   n <= eps: dx = dy / eps
//   x, dy (N, D) -> dx (N, D) (=); dx == dy allowed.
template <class B>
void l2_normalize_backward(int64_t N, int64_t D, const float* x, const float* dy, float eps,
                           float* dx, void* stream);

}  // namespace bt::cuda
