#include "kernels/cpu/conv2d_ref.h"

#include <algorithm>
#include <vector>

namespace bt::cpu {

// Every output element has its own double accumulator and sums exactly the terms of its formula
// (conv2d.h); a row of accumulators is kept so that the innermost loop runs along a row.

template <class T>
void conv2d_forward_ref(const Conv2dShape& s, const T* x, const T* w, T* y) {
  const int64_t P = s.P(), Q = s.Q();
  std::vector<double> acc(Q);  // y[n, k, p, :]
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t k = 0; k < s.K; ++k)
      for (int64_t p = 0; p < P; ++p) {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t c = 0; c < s.C; ++c)
          for (int64_t r = 0; r < s.R; ++r) {
            const int64_t h = p * s.stride_h - s.pad_h + r;
            if (h < 0 || h >= s.H) continue;
            for (int64_t t = 0; t < s.S; ++t) {
              const double wv = w[((k * s.C + c) * s.R + r) * s.S + t];
              for (int64_t q = 0; q < Q; ++q) {
                const int64_t v = q * s.stride_w - s.pad_w + t;
                if (v >= 0 && v < s.W) acc[q] += double(x[((n * s.C + c) * s.H + h) * s.W + v]) * wv;
              }
            }
          }
        std::copy(acc.begin(), acc.end(), y + ((n * s.K + k) * P + p) * Q);
      }
}

// dx[n,c,h,v] sums the terms of every output (p, q) whose window covers (h, v): p = (h + ph − r) / sh
// must lie exactly on the stride grid and inside [0, P); along the row, each q of tap t adds to
// v = q·sw − pw + t when that lies inside [0, W).
template <class T>
void conv2d_backward_data_ref(const Conv2dShape& s, const T* dy, const T* w, T* dx) {
  const int64_t P = s.P(), Q = s.Q();
  std::vector<double> acc(s.W);  // dx[n, c, h, :]
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t c = 0; c < s.C; ++c)
      for (int64_t h = 0; h < s.H; ++h) {
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t r = 0; r < s.R; ++r) {
          const int64_t ph = h + s.pad_h - r;
          if (ph < 0 || ph % s.stride_h != 0 || ph / s.stride_h >= P) continue;
          const int64_t p = ph / s.stride_h;
          for (int64_t k = 0; k < s.K; ++k)
            for (int64_t t = 0; t < s.S; ++t) {
              const double wv = w[((k * s.C + c) * s.R + r) * s.S + t];
              for (int64_t q = 0; q < Q; ++q) {
                const int64_t v = q * s.stride_w - s.pad_w + t;
                if (v >= 0 && v < s.W) acc[v] += double(dy[((n * s.K + k) * P + p) * Q + q]) * wv;
              }
            }
        }
        std::copy(acc.begin(), acc.end(), dx + ((n * s.C + c) * s.H + h) * s.W);
      }
}

template <class T>
void conv2d_backward_weight_ref(const Conv2dShape& s, const T* x, const T* dy, T* dw) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t k = 0; k < s.K; ++k)
    for (int64_t c = 0; c < s.C; ++c)
      for (int64_t r = 0; r < s.R; ++r)
        for (int64_t t = 0; t < s.S; ++t) {
          double acc = 0;  // dw[k, c, r, t]
          for (int64_t n = 0; n < s.N; ++n)
            for (int64_t p = 0; p < P; ++p) {
              const int64_t h = p * s.stride_h - s.pad_h + r;
              if (h < 0 || h >= s.H) continue;
              for (int64_t q = 0; q < Q; ++q) {
                const int64_t v = q * s.stride_w - s.pad_w + t;
                if (v >= 0 && v < s.W)
                  acc += double(dy[((n * s.K + k) * P + p) * Q + q]) * double(x[((n * s.C + c) * s.H + h) * s.W + v]);
              }
            }
          dw[((k * s.C + c) * s.R + r) * s.S + t] = T(acc);
        }
}

#define BT_CONV2D_REF(T)                                                                \
  template void conv2d_forward_ref<T>(const Conv2dShape&, const T*, const T*, T*);      \
  template void conv2d_backward_data_ref<T>(const Conv2dShape&, const T*, const T*, T*); \
  template void conv2d_backward_weight_ref<T>(const Conv2dShape&, const T*, const T*, T*);
BT_CONV2D_REF(float)
BT_CONV2D_REF(double)
#undef BT_CONV2D_REF

}  // namespace bt::cpu
