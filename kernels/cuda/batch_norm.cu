// Batch normalization kernels (math in batch_norm.h).
//  Training forward/backward and eval backward: one block per channel (a block-uniform loop over
//  the channels when C exceeds the grid). The block strides over the channel's M = N*HW values
//  m -> x[((m / HW) * C + c) * HW + m % HW] (coalesced when HW >= 32), and the per-channel sums
//  meet through warp shuffles and one shared float2 per warp. The forward is two-pass (mean, then
//  Σ(x − mean)²) like the reference, so large means do not cancel.
//  Eval forward: a grid-stride elementwise map.
// Known limit: with HW = 1 (BatchNorm1d) a channel's values are C apart, so the loads of a warp
// are not coalesced; and a grid of C blocks leaves SMs idle when C is small. Fine for the
// emulator and correct on a GPU; a (channel tile x row split) version would be v2.
#include <algorithm>

#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include "kernels/cuda/batch_norm.h"
#include "kernels/cuda/warp_sum.cuh"

namespace bt::cuda {
namespace {

constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;

// (Σ a, Σ b) over the block, returned to every thread. Called in block-uniform control flow;
// partial (kWarps) is shared memory, free again on return.
__device__ float2 block_sum2(float a, float b, float2* partial) {
  a = warp_sum(a);
  b = warp_sum(b);
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = make_float2(a, b);
  __syncthreads();
  float2 t = make_float2(0.0f, 0.0f);
  for (int w = 0; w < kWarps; ++w) {  // the same order in every thread: one result
    t.x += partial[w].x;
    t.y += partial[w].y;
  }
  __syncthreads();  // partial is rewritten by the next call
  return t;
}

// The offset of value m (< M = N*HW) of channel c in a (N, C, HW) buffer.
__device__ __forceinline__ int64_t at(int64_t m, int64_t c, int64_t C, int64_t HW) {
  return (m / HW * C + c) * HW + m % HW;
}

// grid (min(C, 65535)), block (kBlock). Relu: y = max(0, γ x̂ + β).
template <bool Relu>
__global__ void forward_train_kernel(int64_t N, int64_t C, int64_t HW, const float* x,
                                     const float* gamma, const float* beta, float eps,
                                     float momentum, float* y, float* save_mean,
                                     float* save_invstd, float* running_mean, float* running_var) {
  SIMT_SHARED(float2, partial, [kWarps]);
  const int64_t M = N * HW;
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    float s = 0.0f;
    for (int64_t m = threadIdx.x; m < M; m += kBlock) s += x[at(m, c, C, HW)];
    const float mean = block_sum2(s, 0.0f, partial).x / float(M);
    float q = 0.0f;
    for (int64_t m = threadIdx.x; m < M; m += kBlock) {
      const float d = x[at(m, c, C, HW)] - mean;
      q += d * d;
    }
    const float var = block_sum2(q, 0.0f, partial).x / float(M);  // biased
    const float invstd = 1.0f / sqrtf(var + eps);
    const float g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f;
    for (int64_t m = threadIdx.x; m < M; m += kBlock) {
      const int64_t k = at(m, c, C, HW);
      const float v = g * (x[k] - mean) * invstd + b;
      y[k] = Relu && v < 0.0f ? 0.0f : v;
    }
    if (threadIdx.x == 0) {
      save_mean[c] = mean;
      save_invstd[c] = invstd;
      if (running_mean) running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mean;
      if (running_var) {
        const float unbiased = M > 1 ? var * float(M) / float(M - 1) : var;
        running_var[c] = (1.0f - momentum) * running_var[c] + momentum * unbiased;
      }
    }
  }
}

// grid (min(C, 65535)), block (kBlock). Relu: dy is masked by (y > 0) first. Every read of dy
// precedes the barrier in block_sum2 or the write of dx at the same index: dx == dy is safe.
template <bool Relu>
__global__ void backward_train_kernel(int64_t N, int64_t C, int64_t HW, const float* dy,
                                      const float* x, const float* y, const float* gamma,
                                      const float* save_mean, const float* save_invstd, float* dx,
                                      float* dgamma, float* dbeta) {
  SIMT_SHARED(float2, partial, [kWarps]);
  const int64_t M = N * HW;
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    const float mean = save_mean[c], invstd = save_invstd[c];
    float sdy = 0.0f, sdyxh = 0.0f;  // Σ dy, Σ dy x̂
    for (int64_t m = threadIdx.x; m < M; m += kBlock) {
      const int64_t k = at(m, c, C, HW);
      const float d = Relu && !(y[k] > 0.0f) ? 0.0f : dy[k];
      sdy += d;
      sdyxh += d * (x[k] - mean) * invstd;
    }
    const float2 t = block_sum2(sdy, sdyxh, partial);
    // dx = γ invstd / M · (M dy − Σ dy − x̂ Σ(dy x̂))
    const float scale = (gamma ? gamma[c] : 1.0f) * invstd / float(M);
    for (int64_t m = threadIdx.x; m < M; m += kBlock) {
      const int64_t k = at(m, c, C, HW);
      const float d = Relu && !(y[k] > 0.0f) ? 0.0f : dy[k];
      const float xh = (x[k] - mean) * invstd;
      dx[k] = scale * (float(M) * d - t.x - xh * t.y);
    }
    if (threadIdx.x == 0) {
      if (dgamma) dgamma[c] = t.y;
      if (dbeta) dbeta[c] = t.x;
    }
  }
}

// Grid-stride over the N*C*HW elements; element k has channel (k / HW) % C.
__global__ void forward_eval_kernel(int64_t N, int64_t C, int64_t HW, const float* x,
                                    const float* gamma, const float* beta,
                                    const float* running_mean, const float* running_var,
                                    float eps, float* y) {
  const int64_t n = N * C * HW, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += stride) {
    const int64_t c = k / HW % C;
    const float invstd = 1.0f / sqrtf(running_var[c] + eps);
    const float g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f;
    y[k] = g * (x[k] - running_mean[c]) * invstd + b;
  }
}

// grid (min(C, 65535)), block (kBlock). dx is written from dy at the same index after its read.
__global__ void backward_eval_kernel(int64_t N, int64_t C, int64_t HW, const float* dy,
                                     const float* x, const float* gamma,
                                     const float* running_mean, const float* running_var,
                                     float eps, float* dx, float* dgamma, float* dbeta) {
  SIMT_SHARED(float2, partial, [kWarps]);
  const int64_t M = N * HW;
  for (int64_t c = blockIdx.x; c < C; c += gridDim.x) {
    const float mean = running_mean[c], invstd = 1.0f / sqrtf(running_var[c] + eps);
    const float scale = (gamma ? gamma[c] : 1.0f) * invstd;
    float sdy = 0.0f, sdyxh = 0.0f;
    for (int64_t m = threadIdx.x; m < M; m += kBlock) {
      const int64_t k = at(m, c, C, HW);
      const float d = dy[k];
      sdy += d;
      sdyxh += d * (x[k] - mean) * invstd;
      dx[k] = d * scale;
    }
    const float2 t = block_sum2(sdy, sdyxh, partial);
    if (threadIdx.x == 0) {
      if (dgamma) dgamma[c] = t.y;
      if (dbeta) dbeta[c] = t.x;
    }
  }
}

unsigned channel_grid(int64_t C) { return unsigned(std::min<int64_t>(C, 65535)); }

template <bool Relu>
void forward_train(int64_t N, int64_t C, int64_t HW, const float* x, const float* gamma,
                   const float* beta, float eps, float momentum, float* y, float* save_mean,
                   float* save_invstd, float* running_mean, float* running_var, void* stream) {
  if (C <= 0 || N * HW <= 0) return;
  simt::launch(forward_train_kernel<Relu>, channel_grid(C), kBlock, 0, stream, N, C, HW, x, gamma,
               beta, eps, momentum, y, save_mean, save_invstd, running_mean, running_var);
}

template <bool Relu>
void backward_train(int64_t N, int64_t C, int64_t HW, const float* dy, const float* x,
                    const float* y, const float* gamma, const float* save_mean,
                    const float* save_invstd, float* dx, float* dgamma, float* dbeta,
                    void* stream) {
  if (C <= 0 || N * HW <= 0) return;
  simt::launch(backward_train_kernel<Relu>, channel_grid(C), kBlock, 0, stream, N, C, HW, dy, x,
               y, gamma, save_mean, save_invstd, dx, dgamma, dbeta);
}

}  // namespace

template <class B>
void batch_norm_forward_train(int64_t N, int64_t C, int64_t HW, const float* x,
                              const float* gamma, const float* beta, float eps, float momentum,
                              float* y, float* save_mean, float* save_invstd, float* running_mean,
                              float* running_var, void* stream) {
  forward_train<false>(N, C, HW, x, gamma, beta, eps, momentum, y, save_mean, save_invstd,
                       running_mean, running_var, stream);
}

template <class B>
void batch_norm_relu_forward_train(int64_t N, int64_t C, int64_t HW, const float* x,
                                   const float* gamma, const float* beta, float eps,
                                   float momentum, float* y, float* save_mean, float* save_invstd,
                                   float* running_mean, float* running_var, void* stream) {
  forward_train<true>(N, C, HW, x, gamma, beta, eps, momentum, y, save_mean, save_invstd,
                      running_mean, running_var, stream);
}

template <class B>
void batch_norm_backward_train(int64_t N, int64_t C, int64_t HW, const float* dy, const float* x,
                               const float* gamma, const float* save_mean,
                               const float* save_invstd, float* dx, float* dgamma, float* dbeta,
                               void* stream) {
  backward_train<false>(N, C, HW, dy, x, nullptr, gamma, save_mean, save_invstd, dx, dgamma,
                        dbeta, stream);
}

template <class B>
void batch_norm_relu_backward_train(int64_t N, int64_t C, int64_t HW, const float* dy,
                                    const float* x, const float* y, const float* gamma,
                                    const float* save_mean, const float* save_invstd, float* dx,
                                    float* dgamma, float* dbeta, void* stream) {
  backward_train<true>(N, C, HW, dy, x, y, gamma, save_mean, save_invstd, dx, dgamma, dbeta,
                       stream);
}

template <class B>
void batch_norm_forward_eval(int64_t N, int64_t C, int64_t HW, const float* x, const float* gamma,
                             const float* beta, const float* running_mean,
                             const float* running_var, float eps, float* y, void* stream) {
  const int64_t n = N * C * HW;
  if (n <= 0) return;
  simt::launch(forward_eval_kernel, grid_1d(n, kBlock), kBlock, 0, stream, N, C, HW, x, gamma,
               beta, running_mean, running_var, eps, y);
}

template <class B>
void batch_norm_backward_eval(int64_t N, int64_t C, int64_t HW, const float* dy, const float* x,
                              const float* gamma, const float* running_mean,
                              const float* running_var, float eps, float* dx, float* dgamma,
                              float* dbeta, void* stream) {
  if (C <= 0 || N * HW <= 0) return;
  simt::launch(backward_eval_kernel, channel_grid(C), kBlock, 0, stream, N, C, HW, dy, x, gamma,
               running_mean, running_var, eps, dx, dgamma, dbeta);
}

template void batch_norm_forward_train<ThisBackend>(int64_t, int64_t, int64_t, const float*,
                                                    const float*, const float*, float, float,
                                                    float*, float*, float*, float*, float*, void*);
template void batch_norm_relu_forward_train<ThisBackend>(int64_t, int64_t, int64_t, const float*,
                                                         const float*, const float*, float, float,
                                                         float*, float*, float*, float*, float*,
                                                         void*);
template void batch_norm_backward_train<ThisBackend>(int64_t, int64_t, int64_t, const float*,
                                                     const float*, const float*, const float*,
                                                     const float*, float*, float*, float*, void*);
template void batch_norm_relu_backward_train<ThisBackend>(int64_t, int64_t, int64_t, const float*,
                                                          const float*, const float*, const float*,
                                                          const float*, const float*, float*,
                                                          float*, float*, void*);
template void batch_norm_forward_eval<ThisBackend>(int64_t, int64_t, int64_t, const float*,
                                                   const float*, const float*, const float*,
                                                   const float*, float, float*, void*);
template void batch_norm_backward_eval<ThisBackend>(int64_t, int64_t, int64_t, const float*,
                                                    const float*, const float*, const float*,
                                                    const float*, float, float*, float*, float*,
                                                    void*);

}  // namespace bt::cuda
