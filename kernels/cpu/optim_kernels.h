#pragma once
// Fused optimizer updates on raw contiguous CPU buffers, in place. One pass over memory per
// update (LARS: one reduction pass + one update pass); OpenMP over large tensors. The CUDA
// kernels mirror these signatures. Nothing here knows about tensors or autograd.
//   p, g, buf, m, v, target, online: (n) each; scalars in the buffer's type unless noted.
#include <cmath>
#include <cstdint>

namespace bt::cpu {

// SGD as torch.optim.SGD with dampening 0:
//   d = g + wd·p
//   if momentum ≠ 0: buf = d on the first step (first = true), else buf = μ·buf + d (buf =)
//                    d = d + μ·buf (nesterov) or d = buf
//   p -= lr·d
// buf may be nullptr when momentum = 0.
template <class T>
void sgd_step(int64_t n, T* p, const T* g, T* buf, T lr, T momentum, T wd, bool nesterov,
              bool first);

// LARS, pass 1: the squared norms of the trust ratio, accumulated in double:
//   *p_norm2 = ‖p‖²,  *d_norm2 = ‖g + wd·p‖²
template <class T>
void lars_norms(int64_t n, const T* p, const T* g, T wd, double* p_norm2, double* d_norm2);

// LARS trust ratio from pass 1's norms (host arithmetic, shared by every backend):
//   q = η·‖p‖/‖d‖ if ‖p‖ > 0 and ‖d‖ > 0, else 1;  with clip: q = min(q / lr, 1).
inline double lars_trust_ratio(double p_norm, double d_norm, double eta, double lr, bool clip) {
  if (!(p_norm > 0 && d_norm > 0)) return 1.0;
  const double q = eta * p_norm / d_norm;
  return clip ? std::fmin(q / lr, 1.0) : q;
}

// LARS, pass 2 (also the excluded-parameter update, with wd = 0 and q = 1):
//   d = q·(g + wd·p);  buf = μ·buf + d (buf starts at 0, so buf = d on the first step);
//   p -= lr·buf
template <class T>
void lars_update(int64_t n, T* p, const T* g, T* buf, T lr, T momentum, T wd, T q);

// AdamW as torch.optim.AdamW (amsgrad off); step counts from 1:
//   p = p·(1 − lr·wd)
//   m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
//   p -= (lr / (1 − β1^step)) · m / (√v / √(1 − β2^step) + eps)
template <class T>
void adamw_step(int64_t n, T* p, const T* g, T* m, T* v, T lr, T beta1, T beta2, T eps, T wd,
                int64_t step);

// BYOL's target update (an EMA, i.e. a lerp): target = τ·target + (1 − τ)·online.
template <class T>
void ema_update(int64_t n, T* target, const T* online, T tau);

}  // namespace bt::cpu
