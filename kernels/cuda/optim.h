#pragma once
// Fused optimizer updates on the device (optim.cu), float32, in place, mirroring
// kernels/cpu/optim_kernels.h (the CPU versions are the test oracles; the math is there).
//   p, g, buf, m, v, target, online: (n) each, device pointers (host pointers for Simt).
// See backend.h for B and stream.
#include <cstdint>

#include "kernels/cuda/backend.h"

namespace bt::cuda {

// SGD as torch.optim.SGD with dampening 0 (cpu::sgd_step):
//   d = g + wd·p;  momentum ≠ 0: buf = d (first) or μ·buf + d, d = d + μ·buf (nesterov) or buf
//   p -= lr·d.  buf may be nullptr when momentum = 0.
template <class B>
void sgd_step(int64_t n, float* p, const float* g, float* buf, float lr, float momentum, float wd,
              bool nesterov, bool first, void* stream);

// LARS in two passes, with the trust ratio computed on the device (no host round trip).
// The workspace: kLarsWorkspace doubles of device memory (2 norms + 2 partials per block of
// pass 1, which runs at most kLarsMaxBlocks blocks), reusable across calls.
inline constexpr int64_t kLarsMaxBlocks = 1024;
inline constexpr int64_t kLarsWorkspace = 2 + 2 * kLarsMaxBlocks;

// Pass 1: workspace[0] = ‖p‖², workspace[1] = ‖g + wd·p‖² (cpu::lars_norms), summed in double
// in a fixed order (per-block partials in workspace[2...], then one block adds them up).
template <class B>
void lars_norms(int64_t n, const float* p, const float* g, float wd, double* workspace,
                void* stream);

// Pass 2 (cpu::lars_update): q = cpu::lars_trust_ratio(√norms2[0], √norms2[1], eta, lr, clip)
// evaluated on the device from pass 1's norms2 (= the workspace); norms2 == nullptr gives q = 1
// (the excluded-parameter update, with wd = 0). Then buf = μ·buf + q·(g + wd·p), p -= lr·buf.
template <class B>
void lars_update(int64_t n, float* p, const float* g, float* buf, float lr, float momentum,
                 float wd, const double* norms2, double eta, bool clip, void* stream);

// AdamW as torch.optim.AdamW (cpu::adamw_step); step counts from 1:
//   p = p·(1 − lr·wd);  m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
//   p -= (lr / (1 − β1^step)) · m / (√v / √(1 − β2^step) + eps)
template <class B>
void adamw_step(int64_t n, float* p, const float* g, float* m, float* v, float lr, float beta1,
                float beta2, float eps, float wd, int64_t step, void* stream);

// BYOL's target update (cpu::ema_update): target = τ·target + (1 − τ)·online.
template <class B>
void ema_update(int64_t n, float* target, const float* online, float tau, void* stream);

}  // namespace bt::cuda
