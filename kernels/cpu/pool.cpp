#include "kernels/cpu/pool.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace bt::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 14;

// The max-pool selection rule shared by every version: strictly greater wins (first maximum
// kept on ties), and a NaN always takes over so that it propagates.
template <class T>
inline bool takes_over(T v, T best) {
  return v > best || std::isnan(v);
}

}  // namespace

template <class T>
void max_pool2d_forward_ref(int64_t N, int64_t C, int64_t H, int64_t W, const PoolWindow& win,
                            const T* x, T* y, int32_t* indices) {
  const int64_t OH = win.out_h(H), OW = win.out_w(W);
  for (int64_t p = 0; p < N * C; ++p)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        T best = -INFINITY;
        int64_t arg = -1;
        for (int64_t i = 0; i < win.kh; ++i)
          for (int64_t j = 0; j < win.kw; ++j) {
            const int64_t h = oh * win.sh - win.ph + i, w = ow * win.sw - win.pw + j;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const T v = x[p * H * W + h * W + w];
            if (arg < 0 || takes_over(v, best)) best = v, arg = h * W + w;
          }
        y[(p * OH + oh) * OW + ow] = best;
        if (indices) indices[(p * OH + oh) * OW + ow] = int32_t(arg);
      }
}

template <class T>
void max_pool2d_backward_ref(int64_t N, int64_t C, int64_t H, int64_t W, const PoolWindow& win,
                             const T* x, const T* dy, T* dx) {
  const int64_t OH = win.out_h(H), OW = win.out_w(W);
  std::vector<int32_t> arg(N * C * OH * OW);
  std::vector<T> y(arg.size());
  max_pool2d_forward_ref(N, C, H, W, win, x, y.data(), arg.data());
  std::fill(dx, dx + N * C * H * W, T(0));
  for (int64_t p = 0; p < N * C; ++p)
    for (int64_t o = 0; o < OH * OW; ++o) dx[p * H * W + arg[p * OH * OW + o]] += dy[p * OH * OW + o];
}

template <class T>
void max_pool2d_forward(int64_t N, int64_t C, int64_t H, int64_t W, const PoolWindow& win,
                        const T* x, T* y, int32_t* indices) {
  const int64_t OH = win.out_h(H), OW = win.out_w(W);
#pragma omp parallel for schedule(static) if (N * C * H * W >= kParallelMin)
  for (int64_t p = 0; p < N * C; ++p) {
    const T* xp = x + p * H * W;
    T* yp = y + p * OH * OW;
    int32_t* ip = indices ? indices + p * OH * OW : nullptr;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const int64_t h0 = std::max<int64_t>(oh * win.sh - win.ph, 0);
      const int64_t h1 = std::min<int64_t>(oh * win.sh - win.ph + win.kh, H);
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t w0 = std::max<int64_t>(ow * win.sw - win.pw, 0);
        const int64_t w1 = std::min<int64_t>(ow * win.sw - win.pw + win.kw, W);
        int64_t arg = h0 * W + w0;
        T best = xp[arg];
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w)
            if (takes_over(xp[h * W + w], best)) best = xp[h * W + w], arg = h * W + w;
        yp[oh * OW + ow] = best;
        if (ip) ip[oh * OW + ow] = int32_t(arg);
      }
    }
  }
}

template <class T>
void max_pool2d_backward(int64_t N, int64_t C, int64_t H, int64_t W, const PoolWindow& win,
                         const int32_t* indices, const T* dy, T* dx) {
  const int64_t OH = win.out_h(H), OW = win.out_w(W);
  // One plane per iteration: the scatter-adds of a plane never race with another plane's.
#pragma omp parallel for schedule(static) if (N * C * H * W >= kParallelMin)
  for (int64_t p = 0; p < N * C; ++p) {
    T* dxp = dx + p * H * W;
    std::fill(dxp, dxp + H * W, T(0));
    for (int64_t o = 0; o < OH * OW; ++o) dxp[indices[p * OH * OW + o]] += dy[p * OH * OW + o];
  }
}

template <class T>
void global_avg_pool_forward_ref(int64_t N, int64_t C, int64_t HW, const T* x, T* y, ChannelLayout layout) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      double s = 0;
      for (int64_t i = 0; i < HW; ++i) s += x[channel_offset(layout, C, HW, n, c, i)];
      y[n * C + c] = T(s / double(HW));
    }
}

template <class T>
void global_avg_pool_forward(int64_t N, int64_t C, int64_t HW, const T* x, T* y, ChannelLayout layout) {
  if (layout == ChannelLayout::nChw16c) {  // per block (n, c/16): 16 lane sums over HW
#pragma omp parallel for schedule(static) if (N * C * HW >= kParallelMin)
    for (int64_t b = 0; b < N * C / kChannelBlock; ++b) {
      const T* blk = x + b * kChannelBlock * HW;
      T s[kChannelBlock] = {};
      for (int64_t i = 0; i < HW; ++i)
#pragma omp simd
        for (int64_t l = 0; l < kChannelBlock; ++l) s[l] += blk[i * kChannelBlock + l];
      for (int64_t l = 0; l < kChannelBlock; ++l) y[b * kChannelBlock + l] = s[l] / T(HW);  // = n·C + c
    }
    return;
  }
#pragma omp parallel for schedule(static) if (N * C * HW >= kParallelMin)
  for (int64_t p = 0; p < N * C; ++p) {
    T s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < HW; ++i) s += x[p * HW + i];
    y[p] = s / T(HW);
  }
}

template <class T>
void global_avg_pool_backward_ref(int64_t N, int64_t C, int64_t HW, const T* dy, T* dx, ChannelLayout layout) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < HW; ++i) dx[channel_offset(layout, C, HW, n, c, i)] = T(double(dy[n * C + c]) / double(HW));
}

template <class T>
void global_avg_pool_backward(int64_t N, int64_t C, int64_t HW, const T* dy, T* dx, ChannelLayout layout) {
  if (layout == ChannelLayout::nChw16c) {
#pragma omp parallel for schedule(static) if (N * C * HW >= kParallelMin)
    for (int64_t b = 0; b < N * C / kChannelBlock; ++b) {
      T v[kChannelBlock];
      for (int64_t l = 0; l < kChannelBlock; ++l) v[l] = dy[b * kChannelBlock + l] / T(HW);
      T* blk = dx + b * kChannelBlock * HW;
      for (int64_t i = 0; i < HW; ++i)
#pragma omp simd
        for (int64_t l = 0; l < kChannelBlock; ++l) blk[i * kChannelBlock + l] = v[l];
    }
    return;
  }
#pragma omp parallel for schedule(static) if (N * C * HW >= kParallelMin)
  for (int64_t p = 0; p < N * C; ++p) {
    const T v = dy[p] / T(HW);
#pragma omp simd
    for (int64_t i = 0; i < HW; ++i) dx[p * HW + i] = v;
  }
}

#define BT_INSTANTIATE(T)                                                                        \
  template void max_pool2d_forward_ref<T>(int64_t, int64_t, int64_t, int64_t, const PoolWindow&, \
                                          const T*, T*, int32_t*);                               \
  template void max_pool2d_forward<T>(int64_t, int64_t, int64_t, int64_t, const PoolWindow&,     \
                                      const T*, T*, int32_t*);                                   \
  template void max_pool2d_backward_ref<T>(int64_t, int64_t, int64_t, int64_t,                   \
                                           const PoolWindow&, const T*, const T*, T*);           \
  template void max_pool2d_backward<T>(int64_t, int64_t, int64_t, int64_t, const PoolWindow&,    \
                                       const int32_t*, const T*, T*);                            \
  template void global_avg_pool_forward_ref<T>(int64_t, int64_t, int64_t, const T*, T*, ChannelLayout);         \
  template void global_avg_pool_forward<T>(int64_t, int64_t, int64_t, const T*, T*, ChannelLayout);             \
  template void global_avg_pool_backward_ref<T>(int64_t, int64_t, int64_t, const T*, T*, ChannelLayout);        \
  template void global_avg_pool_backward<T>(int64_t, int64_t, int64_t, const T*, T*, ChannelLayout);
BT_INSTANTIATE(float)
BT_INSTANTIATE(double)
#undef BT_INSTANTIATE

}  // namespace bt::cpu
