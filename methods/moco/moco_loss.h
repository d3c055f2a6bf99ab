#pragma once
// MoCo's InfoNCE loss (He et al. 2020, eq. 1): for query q_n, its key k_n (the positive) and the
// queue's K keys (the negatives),
//   L = (1/N) Σ_n −log( exp(q_n·k_n/τ) / (exp(q_n·k_n/τ) + Σ_j exp(q_n·queue_j/τ)) ),
// i.e. cross-entropy of the logits [q·k₊, q·queueᵀ]/τ (N, 1 + K) against label 0. Composed of
// engine ops (sum, linear, cat, cross_entropy), so every device runs it. The keys and the
// queue are constants: only q gets a gradient,
//   ∂L/∂q_n = (1/(Nτ)) (Σ_c p_nc c − k_n),  p_n = softmax of row n, c over {k_n, queue_j}.
#include "engine/tensor.h"

namespace bt::methods {

// q, k (N, D), queue (K, D): rows expected to be unit vectors (not checked), tau > 0.
Tensor moco_infonce_loss(const Tensor& q, const Tensor& k, const Tensor& queue, double tau);

}  // namespace bt::methods
