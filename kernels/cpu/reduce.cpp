#include "kernels/cpu/reduce.h"

#include <algorithm>

namespace bt::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 15;
constexpr int64_t kSumBlock = 1024;  // values summed in T before the partial goes into double
constexpr int64_t kInnerTile = 256;  // columns accumulated together when inner > 1

// Σ of a contiguous run: SIMD partial sums in T over blocks, blocks combined in double.
template <class T>
double sum_contiguous(const T* x, int64_t n) {
  double total = 0;
  for (int64_t b = 0; b < n; b += kSumBlock) {
    const int64_t e = std::min(n, b + kSumBlock);
    T s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = b; i < e; ++i) s += x[i];
    total += s;
  }
  return total;
}

}  // namespace

template <class T>
void sum_axis_ref(int64_t outer, int64_t axis, int64_t inner, const T* x, T* y) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double s = 0;
      for (int64_t a = 0; a < axis; ++a) s += x[(o * axis + a) * inner + i];
      y[o * inner + i] = T(s);
    }
}

template <class T>
void sum_axis(int64_t outer, int64_t axis, int64_t inner, const T* x, T* y) {
  const bool par = outer * axis * inner >= kParallelMin;
  if (inner == 1) {  // rows of `axis` contiguous values
#pragma omp parallel for schedule(static) if (par)
    for (int64_t o = 0; o < outer; ++o) y[o] = T(sum_contiguous(x + o * axis, axis));
    return;
  }
  // Tiles of kInnerTile columns: each walks the axis adding whole contiguous row pieces into a
  // double accumulator (SIMD over the columns).
  const int64_t tiles = (inner + kInnerTile - 1) / kInnerTile;
#pragma omp parallel for schedule(static) if (par)
  for (int64_t t = 0; t < outer * tiles; ++t) {
    const int64_t o = t / tiles, i0 = (t % tiles) * kInnerTile;
    const int64_t len = std::min(kInnerTile, inner - i0);
    double acc[kInnerTile] = {};
    for (int64_t a = 0; a < axis; ++a) {
      const T* r = x + (o * axis + a) * inner + i0;
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) acc[i] += r[i];
    }
    for (int64_t i = 0; i < len; ++i) y[o * inner + i0 + i] = T(acc[i]);
  }
}

template <class T>
void sum_axis_backward_ref(int64_t outer, int64_t axis, int64_t inner, const T* dy, T* dx) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 0; a < axis; ++a)
      for (int64_t i = 0; i < inner; ++i) dx[(o * axis + a) * inner + i] = dy[o * inner + i];
}

template <class T>
void sum_axis_backward(int64_t outer, int64_t axis, int64_t inner, const T* dy, T* dx) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * axis * inner >= kParallelMin)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 0; a < axis; ++a)
      std::copy(dy + o * inner, dy + (o + 1) * inner, dx + (o * axis + a) * inner);
}

template <class T>
T sum_all_ref(int64_t n, const T* x) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  return T(s);
}

template <class T>
T sum_all(int64_t n, const T* x) {
  double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total) if (n >= kParallelMin)
  for (int64_t b = 0; b < n; b += kSumBlock) total += sum_contiguous(x + b, std::min(kSumBlock, n - b));
  return T(total);
}

#define BT_INSTANTIATE(T)                                                                    \
  template void sum_axis_ref<T>(int64_t, int64_t, int64_t, const T*, T*);                    \
  template void sum_axis<T>(int64_t, int64_t, int64_t, const T*, T*);                        \
  template void sum_axis_backward_ref<T>(int64_t, int64_t, int64_t, const T*, T*);           \
  template void sum_axis_backward<T>(int64_t, int64_t, int64_t, const T*, T*);               \
  template T sum_all_ref<T>(int64_t, const T*);                                              \
  template T sum_all<T>(int64_t, const T*);
BT_INSTANTIATE(float)
BT_INSTANTIATE(double)
#undef BT_INSTANTIATE

}  // namespace bt::cpu
