#pragma once
// Sums on the CPU. A tensor reduced over one axis is viewed as a contiguous
// (outer, axis, inner) buffer: outer = product of the dims before the axis, inner = after.
// `*_ref` are plain loops accumulating in double; the versions without the suffix are the fast
// path (OpenMP, SIMD; partial sums of at most kSumBlock values in T, combined in double).
#include <cstdint>

namespace bt::cpu {

// y[o, i] = Σ_a x[o, a, i]
//   x (outer, axis, inner) -> y (outer, inner) (=)
template <class T>
void sum_axis_ref(int64_t outer, int64_t axis, int64_t inner, const T* x, T* y);
template <class T>
void sum_axis(int64_t outer, int64_t axis, int64_t inner, const T* x, T* y);

// The backward of sum_axis: broadcast the gradient back along the axis, dx[o, a, i] = dy[o, i].
//   dy (outer, inner) -> dx (outer, axis, inner) (=)
template <class T>
void sum_axis_backward_ref(int64_t outer, int64_t axis, int64_t inner, const T* dy, T* dx);
template <class T>
void sum_axis_backward(int64_t outer, int64_t axis, int64_t inner, const T* dy, T* dx);

// Σ of all n values of x (n); the backward of a full sum is a fill with the upstream gradient.
template <class T>
T sum_all_ref(int64_t n, const T* x);
template <class T>
T sum_all(int64_t n, const T* x);

}  // namespace bt::cpu
