#pragma once
// Per-step schedules: the learning rate (linear warmup, then cosine decay) and BYOL's EMA
// momentum τ.
#include <cstdint>

namespace bt::optim {

// lr(s) for step s = 0, 1, …, as in the Barlow Twins repository's adjust_learning_rate:
//   s < W:       lr = base_lr · s / W                          (starts at 0)
//   W ≤ s < T:   c = ½(1 + cos(π (s − W) / (T − W)));  lr = final_lr + (base_lr − final_lr)·c
//   s ≥ T:       lr = final_lr
// W = warmup_steps (0: no warmup), T = total_steps > W.
struct WarmupCosine {
  int64_t warmup_steps;
  int64_t total_steps;
  double base_lr;
  double final_lr;
  double operator()(int64_t step) const;
};

// BYOL (Grill et al. 2020, §3.2): τ(k) = 1 − (1 − τ_base)(cos(πk/K) + 1)/2 for k in [0, K],
// so τ(0) = τ_base and τ(K) = 1; k > K gives 1. K = total_steps > 0.
struct ByolTau {
  double base_tau;
  int64_t total_steps;
  double operator()(int64_t step) const;
};

}  // namespace bt::optim
