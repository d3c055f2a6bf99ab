#pragma once
// L2 normalization of the rows of a contiguous (N, D) buffer, as torch.nn.functional.normalize
// (p = 2, dim = 1, eps = 1e-12 by default): y = x / max(||x||, eps).
// `*_ref` are plain loops in double; the versions without the suffix are the fast path
// (OpenMP over rows, SIMD dot products).
#include <cstdint>

namespace bt::cpu {

//   x (N, D) -> y (N, D) (=)
template <class T>
void l2_normalize_forward_ref(int64_t N, int64_t D, const T* x, T eps, T* y);
template <class T>
void l2_normalize_forward(int64_t N, int64_t D, const T* x, T eps, T* y);

// Backward, recomputing the row norms n = ||x|| from x:
//   n > eps:  y = x/n, ∂y/∂x = (I − y yᵀ)/n, so dx = (dy − y (y·dy)) / n
//   n <= eps: y = x/eps, dx = dy / eps
//   x, dy (N, D) -> dx (N, D) (=); the fast version allows dx == dy.
template <class T>
void l2_normalize_backward_ref(int64_t N, int64_t D, const T* x, const T* dy, T eps, T* dx);
template <class T>
void l2_normalize_backward(int64_t N, int64_t D, const T* x, const T* dy, T eps, T* dx);

}  // namespace bt::cpu
