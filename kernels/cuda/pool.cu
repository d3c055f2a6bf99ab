// Pooling kernels (contracts in pool.h).
//  max_pool2d forward: one thread per output element (grid-stride), taps in row-major order.
//  max_pool2d backward: one thread per input element gathers the dy of the (at most
//    ceil(k/s)² ) windows that cover it and chose it as their argmax: race-free, deterministic,
//    and the same summation order (outputs ascending) as the CPU version's scatter.
//  global average pool: the row sums of reduce.cu (x viewed as (N*C, HW), alpha = 1/HW);
//    its backward a grid-stride broadcast.
#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include "kernels/cuda/pool.h"
#include "kernels/cuda/reduce.h"

namespace bt::cuda {
namespace {

constexpr int kBlock = 256;

// The window as the kernels see it (PoolWindow's member functions are host-only).
struct Window {
  int kh, kw, sh, sw, ph, pw;
};

Window device_window(const cpu::PoolWindow& w) {
  return {int(w.kh), int(w.kw), int(w.sh), int(w.sw), int(w.ph), int(w.pw)};
}

// x (P = N*C planes, H, W) -> y (P, OH, OW), indices (P, OH, OW) or nullptr.
__global__ void max_pool_forward_kernel(int64_t P, int H, int W, int OH, int OW, Window win,
                                        const float* x, float* y, int32_t* indices) {
  const int64_t n = P * OH * OW, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < n; o += stride) {
    const int64_t p = o / (int64_t(OH) * OW);
    const int oh = int(o / OW % OH), ow = int(o % OW);
    const float* xp = x + p * H * W;  // (H, W)
    float best = 0.0f;
    int arg = -1;
    for (int i = 0; i < win.kh; ++i) {
      const int h = oh * win.sh - win.ph + i;
      if (h < 0 || h >= H) continue;
      for (int j = 0; j < win.kw; ++j) {
        const int w = ow * win.sw - win.pw + j;
        if (w < 0 || w >= W) continue;
        const float v = xp[h * W + w];
        // Strictly greater wins (first maximum kept on ties); a NaN (v != v) always takes over.
        if (arg < 0 || v > best || v != v) {
          best = v;
          arg = h * W + w;
        }
      }
    }
    y[o] = best;
    if (indices) indices[o] = arg;
  }
}

// indices, dy (P, OH, OW) -> dx (P, H, W). Input (h, w) lies in the windows oh with
// oh·sh − ph <= h < oh·sh − ph + kh, i.e. ceil((h + ph − kh + 1)/sh) <= oh <= (h + ph)/sh.
__global__ void max_pool_backward_kernel(int64_t P, int H, int W, int OH, int OW, Window win,
                                         const int32_t* indices, const float* dy, float* dx) {
  const int64_t n = P * H * W, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const int64_t p = i / (int64_t(H) * W);
    const int hw = int(i % (int64_t(H) * W)), h = hw / W, w = hw % W;
    const int hl = h + win.ph - win.kh + 1, wl = w + win.pw - win.kw + 1;
    const int oh0 = hl <= 0 ? 0 : (hl + win.sh - 1) / win.sh;
    const int ow0 = wl <= 0 ? 0 : (wl + win.sw - 1) / win.sw;
    const int oh1 = min((h + win.ph) / win.sh, OH - 1), ow1 = min((w + win.pw) / win.sw, OW - 1);
    const int32_t* ip = indices + p * OH * OW;  // (OH, OW)
    const float* gp = dy + p * OH * OW;         // (OH, OW)
    float acc = 0.0f;
    for (int oh = oh0; oh <= oh1; ++oh)
      for (int ow = ow0; ow <= ow1; ++ow)
        if (ip[oh * OW + ow] == hw) acc += gp[oh * OW + ow];
    dx[i] = acc;
  }
}

// dy (rows) -> dx (rows, HW): dx[r, i] = alpha · dy[r].
__global__ void broadcast_rows_kernel(int64_t rows, int64_t HW, float alpha, const float* dy,
                                      float* dx) {
  const int64_t n = rows * HW, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    dx[i] = alpha * dy[i / HW];
}

}  // namespace

template <class B>
void max_pool2d_forward(int64_t N, int64_t C, int64_t H, int64_t W, const cpu::PoolWindow& win,
                        const float* x, float* y, int32_t* indices, void* stream) {
  const int64_t OH = win.out_h(H), OW = win.out_w(W), n = N * C * OH * OW;
  if (n <= 0) return;
  simt::launch(max_pool_forward_kernel, grid_1d(n, kBlock), kBlock, 0, stream, N * C, int(H),
               int(W), int(OH), int(OW), device_window(win), x, y, indices);
}

template <class B>
void max_pool2d_backward(int64_t N, int64_t C, int64_t H, int64_t W, const cpu::PoolWindow& win,
                         const int32_t* indices, const float* dy, float* dx, void* stream) {
  const int64_t OH = win.out_h(H), OW = win.out_w(W), n = N * C * H * W;
  if (n <= 0) return;
  simt::launch(max_pool_backward_kernel, grid_1d(n, kBlock), kBlock, 0, stream, N * C, int(H),
               int(W), int(OH), int(OW), device_window(win), indices, dy, dx);
}

template <class B>
void global_avg_pool_forward(int64_t N, int64_t C, int64_t HW, const float* x, float* y,
                             void* stream) {
  sum_dim1<B>(N * C, HW, x, 1.0f / float(HW), y, stream);
}

template <class B>
void global_avg_pool_backward(int64_t N, int64_t C, int64_t HW, const float* dy, float* dx,
                              void* stream) {
  const int64_t n = N * C * HW;
  if (n <= 0) return;
  simt::launch(broadcast_rows_kernel, grid_1d(n, kBlock), kBlock, 0, stream, N * C, HW,
               1.0f / float(HW), dy, dx);
}

template void max_pool2d_forward<ThisBackend>(int64_t, int64_t, int64_t, int64_t,
                                              const cpu::PoolWindow&, const float*, float*,
                                              int32_t*, void*);
template void max_pool2d_backward<ThisBackend>(int64_t, int64_t, int64_t, int64_t,
                                               const cpu::PoolWindow&, const int32_t*,
                                               const float*, float*, void*);
template void global_avg_pool_forward<ThisBackend>(int64_t, int64_t, int64_t, const float*, float*,
                                                   void*);
template void global_avg_pool_backward<ThisBackend>(int64_t, int64_t, int64_t, const float*,
                                                    float*, void*);

}  // namespace bt::cuda
