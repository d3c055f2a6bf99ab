#pragma once
// The three SSL losses as fused autograd ops over the CPU kernels in kernels/cpu/ssl_losses.h,
// or on simt/cuda the CUDA kernels in kernels/cuda/ssl_losses.h (docs/design.md §5 has the math). methods/ssl_losses_composed.h builds the same losses from primitive
// ops; the tests hold the two against each other.
#include "engine/tensor.h"

namespace bt::methods {

// Barlow Twins: Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij², C = ẑ1ᵀ ẑ2 / N (D×D), ẑ the batch-normalised
// embeddings. z1, z2 (N, D). The gradient is computed in the same pass as the loss.
Tensor barlow_twins_loss(const Tensor& z1, const Tensor& z2, double lambda);
// λ = auto: 1/(D − 1), the scale-free form (a mean over the off-diagonal).
double barlow_twins_auto_lambda(int64_t D);

// The cross-correlation matrix C (D, D) itself, outside autograd: for heatmaps and tests.
Tensor barlow_twins_cross_correlation(const Tensor& z1, const Tensor& z2);

// SimCLR NT-Xent over z = normalize(cat(z1, z2)) with temperature tau; z1, z2 (N, D).
// The 2N×2N similarity matrix is never stored (online softmax over column tiles).
Tensor nt_xent_loss(const Tensor& z1, const Tensor& z2, double tau);

// BYOL regression loss: mean over rows of 2 − 2·cos(p, t), t treated as a constant.
Tensor byol_loss(const Tensor& p, const Tensor& t);

}  // namespace bt::methods
