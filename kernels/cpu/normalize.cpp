#include "kernels/cpu/normalize.h"
#include "kernels/cpu/dot.h"

#include <algorithm>
#include <cmath>

namespace bt::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 14;

}  // namespace

template <class T>
void l2_normalize_forward_ref(int64_t N, int64_t D, const T* x, T eps, T* y) {
  for (int64_t r = 0; r < N; ++r) {
    double ss = 0;
    for (int64_t j = 0; j < D; ++j) ss += double(x[r * D + j]) * x[r * D + j];
    const double denom = std::max(std::sqrt(ss), double(eps));
    for (int64_t j = 0; j < D; ++j) y[r * D + j] = T(x[r * D + j] / denom);
  }
}

template <class T>
void l2_normalize_forward(int64_t N, int64_t D, const T* x, T eps, T* y) {
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
  for (int64_t r = 0; r < N; ++r) {
    const T* xr = x + r * D;
    const T inv = T(1) / std::max(std::sqrt(dot(xr, xr, D)), eps);
#pragma omp simd
    for (int64_t j = 0; j < D; ++j) y[r * D + j] = xr[j] * inv;
  }
}

template <class T>
void l2_normalize_backward_ref(int64_t N, int64_t D, const T* x, const T* dy, T eps, T* dx) {
  for (int64_t r = 0; r < N; ++r) {
    double ss = 0, xdy = 0;
    for (int64_t j = 0; j < D; ++j) {
      ss += double(x[r * D + j]) * x[r * D + j];
      xdy += double(x[r * D + j]) * dy[r * D + j];
    }
    const double n = std::sqrt(ss);
    for (int64_t j = 0; j < D; ++j) {
      const int64_t k = r * D + j;
      // (dy − y (y·dy)) / n with y = x/n, i.e. dy/n − x (x·dy)/n³
      dx[k] = n > double(eps) ? T(dy[k] / n - x[k] * xdy / (n * n * n)) : T(dy[k] / double(eps));
    }
  }
}

template <class T>
void l2_normalize_backward(int64_t N, int64_t D, const T* x, const T* dy, T eps, T* dx) {
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
  for (int64_t r = 0; r < N; ++r) {
    const T* xr = x + r * D;
    const T* dyr = dy + r * D;
    T* dxr = dx + r * D;
    const T n = std::sqrt(dot(xr, xr, D));
    const T a = T(1) / std::max(n, eps);                     // coefficient of dy
    const T b = n > eps ? -(dot(xr, dyr, D) * a) * a * a : T(0);  // of x: −(x·dy)/n³
#pragma omp simd
    for (int64_t j = 0; j < D; ++j) dxr[j] = a * dyr[j] + b * xr[j];
  }
}

#define BT_INSTANTIATE(T)                                                                    \
  template void l2_normalize_forward_ref<T>(int64_t, int64_t, const T*, T, T*);              \
  template void l2_normalize_forward<T>(int64_t, int64_t, const T*, T, T*);                  \
  template void l2_normalize_backward_ref<T>(int64_t, int64_t, const T*, const T*, T, T*);   \
  template void l2_normalize_backward<T>(int64_t, int64_t, const T*, const T*, T, T*);
BT_INSTANTIATE(float)
BT_INSTANTIATE(double)
#undef BT_INSTANTIATE

}  // namespace bt::cpu
