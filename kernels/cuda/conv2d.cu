// Direct convolution (conv2d.h): one thread per output element of each pass.
//   forward          y[n,k,p,q]  = Σ_{c,r,s} x[n,c,p·sh−ph+r, q·sw−pw+s] · w[k,c,r,s]
//   backward_data    dx[n,c,h,v] = Σ_{k,r,s} dy[n,k,p,q] · w[k,c,r,s] over the (p, q) with
//                    p·sh−ph+r = h and q·sw−pw+s = v (the transposed convolution)
//   backward_weight  dw[k,c,r,s] = Σ_{n,p,q} dy[n,k,p,q] · x[n,c,p·sh−ph+r, q·sw−pw+s]
#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include <stdexcept>

#include "kernels/cuda/conv2d.h"

namespace bt::cuda {
namespace {

constexpr int kBlock = 256;

// The geometry as plain values a kernel can read (Conv2dShape's methods are host code).
struct Geometry {
  int64_t N, C, H, W, K, R, S, P, Q, sh, sw, ph, pw;
};

Geometry geometry(const cpu::Conv2dShape& s) {
  if (!s.valid()) throw std::invalid_argument("bt::cuda::conv2d: invalid geometry " + s.str());
  return {s.N, s.C, s.H, s.W, s.K, s.R, s.S, s.P(), s.Q(), s.stride_h, s.stride_w, s.pad_h, s.pad_w};
}

__global__ void forward_kernel(Geometry g, const float* x, const float* w, float* y) {
  const int64_t total = g.N * g.K * g.P * g.Q, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int64_t q = i % g.Q, p = i / g.Q % g.P, k = i / (g.Q * g.P) % g.K, n = i / (g.Q * g.P * g.K);
    float acc = 0.0f;
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t r = 0; r < g.R; ++r) {
        const int64_t h = p * g.sh - g.ph + r;
        if (h < 0 || h >= g.H) continue;
        for (int64_t s = 0; s < g.S; ++s) {
          const int64_t v = q * g.sw - g.pw + s;
          if (v < 0 || v >= g.W) continue;
          acc += x[((n * g.C + c) * g.H + h) * g.W + v] * w[((k * g.C + c) * g.R + r) * g.S + s];
        }
      }
    y[i] = acc;
  }
}

__global__ void backward_data_kernel(Geometry g, const float* dy, const float* w, float* dx) {
  const int64_t total = g.N * g.C * g.H * g.W, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int64_t v = i % g.W, h = i / g.W % g.H, c = i / (g.W * g.H) % g.C, n = i / (g.W * g.H * g.C);
    float acc = 0.0f;
    for (int64_t r = 0; r < g.R; ++r) {
      const int64_t hp = h + g.ph - r;  // = p·sh
      if (hp < 0 || hp % g.sh != 0 || hp / g.sh >= g.P) continue;
      for (int64_t s = 0; s < g.S; ++s) {
        const int64_t vq = v + g.pw - s;  // = q·sw
        if (vq < 0 || vq % g.sw != 0 || vq / g.sw >= g.Q) continue;
        const int64_t p = hp / g.sh, q = vq / g.sw;
        for (int64_t k = 0; k < g.K; ++k)
          acc += dy[((n * g.K + k) * g.P + p) * g.Q + q] * w[((k * g.C + c) * g.R + r) * g.S + s];
      }
    }
    dx[i] = acc;
  }
}

__global__ void backward_weight_kernel(Geometry g, const float* x, const float* dy, float* dw) {
  const int64_t total = g.K * g.C * g.R * g.S, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int64_t s = i % g.S, r = i / g.S % g.R, c = i / (g.S * g.R) % g.C, k = i / (g.S * g.R * g.C);
    float acc = 0.0f;
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t p = 0; p < g.P; ++p) {
        const int64_t h = p * g.sh - g.ph + r;
        if (h < 0 || h >= g.H) continue;
        for (int64_t q = 0; q < g.Q; ++q) {
          const int64_t v = q * g.sw - g.pw + s;
          if (v < 0 || v >= g.W) continue;
          acc += dy[((n * g.K + k) * g.P + p) * g.Q + q] * x[((n * g.C + c) * g.H + h) * g.W + v];
        }
      }
    dw[i] = acc;
  }
}

}  // namespace

template <class B>
void conv2d_forward(const cpu::Conv2dShape& s, const float* x, const float* w, float* y, void* stream) {
  const Geometry g = geometry(s);
  const int64_t n = g.N * g.K * g.P * g.Q;
  simt::launch(forward_kernel, grid_1d(n, kBlock), kBlock, 0, stream, g, x, w, y);
}

template <class B>
void conv2d_backward_data(const cpu::Conv2dShape& s, const float* dy, const float* w, float* dx, void* stream) {
  const Geometry g = geometry(s);
  const int64_t n = g.N * g.C * g.H * g.W;
  simt::launch(backward_data_kernel, grid_1d(n, kBlock), kBlock, 0, stream, g, dy, w, dx);
}

template <class B>
void conv2d_backward_weight(const cpu::Conv2dShape& s, const float* x, const float* dy, float* dw, void* stream) {
  const Geometry g = geometry(s);
  const int64_t n = g.K * g.C * g.R * g.S;
  simt::launch(backward_weight_kernel, grid_1d(n, kBlock), kBlock, 0, stream, g, x, dy, dw);
}

template void conv2d_forward<ThisBackend>(const cpu::Conv2dShape&, const float*, const float*, float*, void*);
template void conv2d_backward_data<ThisBackend>(const cpu::Conv2dShape&, const float*, const float*, float*, void*);
template void conv2d_backward_weight<ThisBackend>(const cpu::Conv2dShape&, const float*, const float*, float*,
                                                  void*);

}  // namespace bt::cuda
