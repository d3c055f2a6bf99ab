#include "kernels/cpu/elementwise.h"

#include <array>
#include <cmath>
#include <vector>

#include "kernels/cpu/bf16.h"

namespace bt::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 15;  // below this, threads cost more than they save

// Calls body(outer_index, offset_a, offset_b) for each row of the last dimension, where the
// offsets are the element offsets of that row's first element in each operand.
template <class F>
void for_each_row(int ndim, const int64_t* shape, const int64_t* sa, const int64_t* sb, F body) {
  int64_t rows = 1;
  for (int d = 0; d + 1 < ndim; ++d) rows *= shape[d];
#pragma omp parallel for if (rows * (ndim ? shape[ndim - 1] : 1) >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t rem = r, oa = 0, ob = 0;
    for (int d = ndim - 2; d >= 0; --d) {
      const int64_t i = rem % shape[d];
      rem /= shape[d];
      oa += i * sa[d];
      ob += i * sb[d];
    }
    body(r, oa, ob);
  }
}

// Two operands' dimensions (a's and b's, or src's and dst's) with each run of dimensions that both
// address as one merged (a dimension's stride equal to the next one's stride times its size, in
// both): a dense (256, 16, 32, 32) pair becomes one dimension of 4194304, a (N, C) + (C) pair
// stays two. Size-1 dimensions are dropped; operands of more than kMaxDims are kept as they are.
class MergedDims {
 public:
  static constexpr int kMaxDims = 8;
  int ndim;
  const int64_t *shape, *sa, *sb;

  MergedDims(int n, const int64_t* shape_in, const int64_t* sa_in, const int64_t* sb_in)
      : ndim(n), shape(shape_in), sa(sa_in), sb(sb_in) {
    if (n > kMaxDims) return;
    ndim = 0;
    for (int d = 0; d < n; ++d) {
      if (shape_in[d] == 1) continue;  // addresses nothing
      const int k = ndim - 1;
      if (k >= 0 && sa_[k] == sa_in[d] * shape_in[d] && sb_[k] == sb_in[d] * shape_in[d]) {
        shape_[k] *= shape_in[d];
        sa_[k] = sa_in[d];
        sb_[k] = sb_in[d];
      } else {
        shape_[ndim] = shape_in[d];
        sa_[ndim] = sa_in[d];
        sb_[ndim] = sb_in[d];
        ++ndim;
      }
    }
    shape = shape_.data();
    sa = sa_.data();
    sb = sb_.data();
  }
  MergedDims(const MergedDims&) = delete;  // the pointers may point into this object
  MergedDims& operator=(const MergedDims&) = delete;

  // Both operands dense: one run over all elements.
  bool dense() const { return ndim == 1 && sa[0] == 1 && sb[0] == 1; }

 private:
  std::array<int64_t, kMaxDims> shape_{}, sa_{}, sb_{};
};

template <class T, class F>
void binary_impl(int ndim_in, const int64_t* shape_in, const T* a, const int64_t* sa_in, const T* b,
                 const int64_t* sb_in, T* out, F f) {
  const MergedDims m(ndim_in, shape_in, sa_in, sb_in);
  const int ndim = m.ndim;
  const int64_t *shape = m.shape, *sa = m.sa, *sb = m.sb;
  if (ndim == 0) {
    out[0] = f(a[0], b[0]);
    return;
  }
  if (m.dense()) {
    const int64_t n = shape[0];
#pragma omp parallel for simd if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
    return;
  }
  const int64_t cols = shape[ndim - 1];
  const int64_t ca = sa[ndim - 1], cb = sb[ndim - 1];
  for_each_row(ndim, shape, sa, sb, [&](int64_t r, int64_t oa, int64_t ob) {
    T* o = out + r * cols;
    const T* pa = a + oa;
    const T* pb = b + ob;
    if (ca == 1 && cb == 1) {
      for (int64_t j = 0; j < cols; ++j) o[j] = f(pa[j], pb[j]);
    } else if (ca == 1 && cb == 0) {
      const T vb = pb[0];
      for (int64_t j = 0; j < cols; ++j) o[j] = f(pa[j], vb);
    } else {
      for (int64_t j = 0; j < cols; ++j) o[j] = f(pa[j * ca], pb[j * cb]);
    }
  });
}

}  // namespace

template <class T>
void binary(BinaryOp op, int ndim, const int64_t* shape, const T* a, const int64_t* sa,
            const T* b, const int64_t* sb, T* out) {
  switch (op) {
    case BinaryOp::add: return binary_impl(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return x + y; });
    case BinaryOp::sub: return binary_impl(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return x - y; });
    case BinaryOp::mul: return binary_impl(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return x * y; });
    case BinaryOp::div: return binary_impl(ndim, shape, a, sa, b, sb, out, [](T x, T y) { return x / y; });
  }
}

template <class T>
void unary(UnaryOp op, int64_t n, const T* x, T* y, double param) {
  const T p = static_cast<T>(param);
  auto run = [&](auto f) {
#pragma omp parallel for simd if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  };
  switch (op) {
    case UnaryOp::neg: return run([](T v) { return -v; });
    case UnaryOp::relu: return run([](T v) { return v > T(0) ? v : T(0); });
    case UnaryOp::exp: return run([](T v) { return std::exp(v); });
    case UnaryOp::log: return run([](T v) { return std::log(v); });
    case UnaryOp::sqrt: return run([](T v) { return std::sqrt(v); });
    case UnaryOp::pow: return run([p](T v) { return std::pow(v, p); });
    case UnaryOp::add_scalar: return run([p](T v) { return v + p; });
    case UnaryOp::mul_scalar: return run([p](T v) { return v * p; });
    case UnaryOp::abs: return run([](T v) { return std::abs(v); });
  }
}

template <class T>
void add_relu(int64_t n, const T* a, const T* b, T* y, uint16_t* y_bf16) {
  if (y_bf16) {
#pragma omp parallel for simd if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
      y[i] = std::max(a[i] + b[i], T(0));
      y_bf16[i] = to_bf16(float(y[i]));
    }
    return;
  }
#pragma omp parallel for simd if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = std::max(a[i] + b[i], T(0));
}

template <class T>
void relu_backward(int64_t n, const T* x, const T* dy, T* dx) {
#pragma omp parallel for simd if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > T(0) ? dy[i] : T(0);
}

template <class Src, class Dst>
void strided_copy(int ndim_in, const int64_t* shape_in, const Src* src, const int64_t* ss_in, Dst* dst,
                  const int64_t* ds_in) {
  const MergedDims m(ndim_in, shape_in, ss_in, ds_in);
  const int ndim = m.ndim;
  const int64_t *shape = m.shape, *ss = m.sa, *ds = m.sb;
  if (ndim == 0) {
    dst[0] = static_cast<Dst>(src[0]);
    return;
  }
  if (m.dense()) {
    const int64_t n = shape[0];
#pragma omp parallel for simd if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(src[i]);
    return;
  }
  const int64_t cols = shape[ndim - 1], cs = ss[ndim - 1], cd = ds[ndim - 1];
  for_each_row(ndim, shape, ss, ds, [&](int64_t, int64_t os, int64_t od) {
    const Src* s = src + os;
    Dst* d = dst + od;
    if (cs == 1 && cd == 1) {
      for (int64_t j = 0; j < cols; ++j) d[j] = static_cast<Dst>(s[j]);
    } else {
      for (int64_t j = 0; j < cols; ++j) d[j * cd] = static_cast<Dst>(s[j * cs]);
    }
  });
}

template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y) {
#pragma omp parallel for simd if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

#define BT_INSTANTIATE(T)                                                                    \
  template void binary<T>(BinaryOp, int, const int64_t*, const T*, const int64_t*, const T*, \
                          const int64_t*, T*);                                               \
  template void unary<T>(UnaryOp, int64_t, const T*, T*, double);                            \
  template void add_relu<T>(int64_t, const T*, const T*, T*, uint16_t*);                     \
  template void relu_backward<T>(int64_t, const T*, const T*, T*);                           \
  template void axpy<T>(int64_t, T, const T*, T*);
BT_INSTANTIATE(float)
BT_INSTANTIATE(double)
#undef BT_INSTANTIATE
template void strided_copy<float, float>(int, const int64_t*, const float*, const int64_t*,
                                             float*, const int64_t*);
template void strided_copy<float, double>(int, const int64_t*, const float*, const int64_t*,
                                             double*, const int64_t*);
template void strided_copy<double, float>(int, const int64_t*, const double*, const int64_t*,
                                             float*, const int64_t*);
template void strided_copy<double, double>(int, const int64_t*, const double*, const int64_t*,
                                             double*, const int64_t*);

}  // namespace bt::cpu
