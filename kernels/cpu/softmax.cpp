#include "kernels/cpu/softmax.h"

#include <algorithm>
#include <cmath>

namespace bt::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 14;

// log Σ_j exp(x_j) of one row, in double, with the max subtracted first.
template <class T>
double row_lse_ref(const T* x, int64_t cols) {
  double m = -INFINITY;
  for (int64_t j = 0; j < cols; ++j) m = std::max(m, double(x[j]));
  double s = 0;
  for (int64_t j = 0; j < cols; ++j) s += std::exp(double(x[j]) - m);
  return m + std::log(s);
}

// The same for the fast path: SIMD max, exp in T, sum in double.
template <class T>
double row_lse(const T* x, int64_t cols) {
  T m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < cols; ++j) m = std::max(m, x[j]);
  double s = 0;
  for (int64_t j = 0; j < cols; ++j) s += std::exp(x[j] - m);
  return double(m) + std::log(s);
}

}  // namespace

template <class T>
void log_softmax_forward_ref(int64_t rows, int64_t cols, const T* x, T* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const double lse = row_lse_ref(x + r * cols, cols);
    for (int64_t j = 0; j < cols; ++j) y[r * cols + j] = T(double(x[r * cols + j]) - lse);
  }
}

template <class T>
void log_softmax_forward(int64_t rows, int64_t cols, const T* x, T* y) {
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const T lse = T(row_lse(x + r * cols, cols));
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) y[r * cols + j] = x[r * cols + j] - lse;
  }
}

template <class T>
void log_softmax_backward_ref(int64_t rows, int64_t cols, const T* y, const T* dy, T* dx) {
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int64_t j = 0; j < cols; ++j) s += dy[r * cols + j];
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t k = r * cols + j;
      dx[k] = T(double(dy[k]) - std::exp(double(y[k])) * s);
    }
  }
}

template <class T>
void log_softmax_backward(int64_t rows, int64_t cols, const T* y, const T* dy, T* dx) {
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    T s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < cols; ++j) s += dyr[j];
    for (int64_t j = 0; j < cols; ++j) dxr[j] = dyr[j] - std::exp(yr[j]) * s;
  }
}

template <class T>
T cross_entropy_forward_ref(int64_t rows, int64_t cols, const T* logits, const int32_t* labels) {
  double total = 0;
  for (int64_t r = 0; r < rows; ++r)
    total += row_lse_ref(logits + r * cols, cols) - double(logits[r * cols + labels[r]]);
  return T(total / double(rows));
}

template <class T>
T cross_entropy_forward(int64_t rows, int64_t cols, const T* logits, const int32_t* labels) {
  double total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total) if (rows * cols >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r)
    total += row_lse(logits + r * cols, cols) - double(logits[r * cols + labels[r]]);
  return T(total / double(rows));
}

template <class T>
void cross_entropy_backward_ref(int64_t rows, int64_t cols, const T* logits,
                                const int32_t* labels, T g, T* dlogits) {
  const double scale = double(g) / double(rows);
  for (int64_t r = 0; r < rows; ++r) {
    const double lse = row_lse_ref(logits + r * cols, cols);
    for (int64_t j = 0; j < cols; ++j) {
      const double p = std::exp(double(logits[r * cols + j]) - lse);
      dlogits[r * cols + j] = T(scale * (p - (j == labels[r] ? 1.0 : 0.0)));
    }
  }
}

template <class T>
void cross_entropy_backward(int64_t rows, int64_t cols, const T* logits, const int32_t* labels,
                            T g, T* dlogits) {
  const T scale = g / T(rows);
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    const T* x = logits + r * cols;
    T* d = dlogits + r * cols;
    const T lse = T(row_lse(x, cols));
    for (int64_t j = 0; j < cols; ++j) d[j] = scale * std::exp(x[j] - lse);
    d[labels[r]] -= scale;
  }
}

#define BT_INSTANTIATE(T)                                                                       \
  template void log_softmax_forward_ref<T>(int64_t, int64_t, const T*, T*);                     \
  template void log_softmax_forward<T>(int64_t, int64_t, const T*, T*);                         \
  template void log_softmax_backward_ref<T>(int64_t, int64_t, const T*, const T*, T*);          \
  template void log_softmax_backward<T>(int64_t, int64_t, const T*, const T*, T*);              \
  template T cross_entropy_forward_ref<T>(int64_t, int64_t, const T*, const int32_t*);          \
  template T cross_entropy_forward<T>(int64_t, int64_t, const T*, const int32_t*);              \
  template void cross_entropy_backward_ref<T>(int64_t, int64_t, const T*, const int32_t*, T,    \
                                              T*);                                              \
  template void cross_entropy_backward<T>(int64_t, int64_t, const T*, const int32_t*, T, T*);
BT_INSTANTIATE(float)
BT_INSTANTIATE(double)
#undef BT_INSTANTIATE

}  // namespace bt::cpu
