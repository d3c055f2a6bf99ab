#pragma once
// The SIMD dot product of two contiguous rows, shared by the row-wise CPU kernels.
#include <cstdint>

namespace bt::cpu {

template <class T>
inline T dot(const T* a, const T* b, int64_t n) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

}  // namespace bt::cpu
