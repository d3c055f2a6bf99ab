#pragma once
// The Barlow Twins loss (Zbontar et al. 2021; docs/design.md §5 has the math)
//   L = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij²,  C = ẑ1ᵀ ẑ2 / N (D×D),
// ẑ the batch-normalised embeddings, as one fused autograd op over kernels/cpu/ssl_loss_kernels.h on
// the cpu device, or kernels/cuda/ssl_loss_launchers.h on simt/cuda (float32); the gradient is computed
// in the pass that computes the loss. composed::barlow_twins_loss builds the same loss from
// primitive ops: the readable statement, and the oracle the fused op is tested against.
#include "engine/dist/process_group.h"
#include "engine/tensor.h"

namespace bt::methods {

// z1, z2 (N, D), N > 1.
Tensor barlow_twins_loss(const Tensor& z1, const Tensor& z2, double lambda);
// λ = auto: 1/(D − 1), the scale-free form (a mean over the off-diagonal).
double barlow_twins_auto_lambda(int64_t D);

// The cross-correlation matrix C (D, D) itself, outside autograd: for heatmaps and tests.
Tensor barlow_twins_cross_correlation(const Tensor& z1, const Tensor& z2);

// Over the global batch of a process group (docs/distributed.md): rank r holds rows
// r·n … (r+1)·n − 1 of each view. C = Σ_ranks ẑ1ᵀ ẑ2 / N_global, ẑ standardised with
// global-batch statistics (SyncBN without affine), C summed by a differentiable all_reduce.
// Every rank gets the whole loss L; under the convention of engine/dist/collectives.h (L = mean
// of the ranks' losses, gradients averaged) that is the one-process loss on the global batch,
// value and gradient.
Tensor barlow_twins_loss_dist(const Tensor& z1, const Tensor& z2, double lambda, dist::ProcessGroup& group);

namespace composed {
Tensor barlow_twins_loss(const Tensor& z1, const Tensor& z2, double lambda);
// Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij² of a cross-correlation C (D, D): the step
// barlow_twins_loss_dist shares.
Tensor barlow_twins_loss_of_correlation(const Tensor& c, double lambda);
}  // namespace composed

}  // namespace bt::methods
