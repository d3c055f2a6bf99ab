// Optimizer kernels (contracts in optim.h): grid-stride maps over the n elements, in place.
// LARS pass 1 is a two-level reduction in double: each block of lars_partials_kernel reduces its
// grid-stride share (warp shuffles, then one shared double2 per warp) to a partial pair, then
// one warp of lars_finish_kernel adds the partials in a fixed order. Pass 2 evaluates the trust
// ratio in every thread from the two norms (two cached loads) and updates.
#include <algorithm>
#include <cmath>

#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include "kernels/cuda/optim.h"
#include "kernels/cuda/warp_sum.cuh"

namespace bt::cuda {
namespace {

constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;

__global__ void sgd_kernel(int64_t n, float* p, const float* g, float* buf, float lr,
                           float momentum, float wd, bool nesterov, bool first) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float d = g[i] + wd * p[i];
    if (momentum == 0.0f) {
      p[i] -= lr * d;
    } else {
      const float b = first ? d : momentum * buf[i] + d;
      buf[i] = b;
      p[i] -= lr * (nesterov ? d + momentum * b : b);
    }
  }
}

// grid (G <= kLarsMaxBlocks), block (kBlock): ws[2 + 2b] = Σ p², ws[3 + 2b] = Σ (g + wd·p)² over
// block b's share.
__global__ void lars_partials_kernel(int64_t n, const float* p, const float* g, float wd,
                                     double* ws) {
  SIMT_SHARED(double, partial, [2][kWarps]);
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  double sp = 0.0, sd = 0.0;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float d = g[i] + wd * p[i];
    sp += double(p[i]) * double(p[i]);
    sd += double(d) * double(d);
  }
  sp = warp_sum(sp);
  sd = warp_sum(sd);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) {
    partial[0][warp] = sp;
    partial[1][warp] = sd;
  }
  __syncthreads();
  if (threadIdx.x < 2) {
    double t = 0.0;
    for (int w = 0; w < kWarps; ++w) t += partial[threadIdx.x][w];
    ws[2 + 2 * blockIdx.x + threadIdx.x] = t;
  }
}

// grid (1), block (32): ws[0], ws[1] = the sums of the G partial pairs.
__global__ void lars_finish_kernel(int G, double* ws) {
  double sp = 0.0, sd = 0.0;
  for (int b = threadIdx.x; b < G; b += 32) {
    sp += ws[2 + 2 * b];
    sd += ws[3 + 2 * b];
  }
  sp = warp_sum(sp);
  sd = warp_sum(sd);
  if (threadIdx.x == 0) {
    ws[0] = sp;
    ws[1] = sd;
  }
}

// q = η·‖p‖/‖d‖ if both norms are > 0, else 1; with clip q = min(q / lr, 1)
// (cpu::lars_trust_ratio); 1 without norms.
__device__ __forceinline__ float trust_ratio(const double* norms2, double eta, double lr,
                                             bool clip) {
  if (norms2 == nullptr) return 1.0f;
  const double pn = sqrt(norms2[0]), dn = sqrt(norms2[1]);
  if (!(pn > 0.0 && dn > 0.0)) return 1.0f;
  const double q = eta * pn / dn;
  return float(clip ? fmin(q / lr, 1.0) : q);
}

__global__ void lars_update_kernel(int64_t n, float* p, const float* g, float* buf, float lr,
                                   float momentum, float wd, const double* norms2, double eta,
                                   bool clip) {
  const float q = trust_ratio(norms2, eta, lr, clip);
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float b = momentum * buf[i] + q * (g[i] + wd * p[i]);
    buf[i] = b;
    p[i] -= lr * b;
  }
}

// decay = 1 − lr·wd, step_size = lr / (1 − β1^step), bc2_sqrt = √(1 − β2^step) (host scalars).
__global__ void adamw_kernel(int64_t n, float* p, const float* g, float* m, float* v,
                             float beta1, float beta2, float eps, float decay, float step_size,
                             float bc2_sqrt) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float gi = g[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - step_size * mi / (sqrtf(vi) / bc2_sqrt + eps);
  }
}

__global__ void ema_kernel(int64_t n, float* target, const float* online, float tau) {
  const float one_minus = 1.0f - tau;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    target[i] = tau * target[i] + one_minus * online[i];
}

}  // namespace

template <class B>
void sgd_step(int64_t n, float* p, const float* g, float* buf, float lr, float momentum, float wd,
              bool nesterov, bool first, void* stream) {
  if (n <= 0) return;
  simt::launch(sgd_kernel, grid_1d(n, kBlock), kBlock, 0, stream, n, p, g, buf, lr, momentum, wd,
               nesterov, first);
}

template <class B>
void lars_norms(int64_t n, const float* p, const float* g, float wd, double* workspace,
                void* stream) {
  const unsigned G = unsigned(std::min<int64_t>(grid_1d(n, kBlock), kLarsMaxBlocks));
  simt::launch(lars_partials_kernel, G, kBlock, 0, stream, n, p, g, wd, workspace);
  simt::launch(lars_finish_kernel, 1, 32, 0, stream, int(G), workspace);
}

template <class B>
void lars_update(int64_t n, float* p, const float* g, float* buf, float lr, float momentum,
                 float wd, const double* norms2, double eta, bool clip, void* stream) {
  if (n <= 0) return;
  simt::launch(lars_update_kernel, grid_1d(n, kBlock), kBlock, 0, stream, n, p, g, buf, lr,
               momentum, wd, norms2, eta, clip);
}

template <class B>
void adamw_step(int64_t n, float* p, const float* g, float* m, float* v, float lr, float beta1,
                float beta2, float eps, float wd, int64_t step, void* stream) {
  if (n <= 0) return;
  // The bias corrections as cpu::adamw_step computes them: in double, rounded once to float.
  const float decay = 1.0f - lr * wd;
  const float step_size = float(double(lr) / (1.0 - std::pow(double(beta1), double(step))));
  const float bc2_sqrt = float(std::sqrt(1.0 - std::pow(double(beta2), double(step))));
  simt::launch(adamw_kernel, grid_1d(n, kBlock), kBlock, 0, stream, n, p, g, m, v, beta1, beta2,
               eps, decay, step_size, bc2_sqrt);
}

template <class B>
void ema_update(int64_t n, float* target, const float* online, float tau, void* stream) {
  if (n <= 0) return;
  simt::launch(ema_kernel, grid_1d(n, kBlock), kBlock, 0, stream, n, target, online, tau);
}

template void sgd_step<ThisBackend>(int64_t, float*, const float*, float*, float, float, float,
                                    bool, bool, void*);
template void lars_norms<ThisBackend>(int64_t, const float*, const float*, float, double*, void*);
template void lars_update<ThisBackend>(int64_t, float*, const float*, float*, float, float, float,
                                       const double*, double, bool, void*);
template void adamw_step<ThisBackend>(int64_t, float*, const float*, float*, float*, float, float,
                                      float, float, float, int64_t, void*);
template void ema_update<ThisBackend>(int64_t, float*, const float*, float, void*);

}  // namespace bt::cuda
