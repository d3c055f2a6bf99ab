#pragma once
// Barlow Twins and SimCLR over the global batch of a process group (docs/distributed.md):
// rank r holds rows r·n … (r+1)·n − 1 of each view. Under the convention of
// engine/dist/collectives.h (L = mean of the ranks' losses, gradients averaged) both equal the
// one-process losses on the global batch, value and gradient.
#include "engine/dist/process_group.h"

namespace bt::methods {

// C = Σ_ranks ẑ1ᵀ ẑ2 / N_global, ẑ standardised with global-batch statistics (SyncBN without
// affine), C summed by a differentiable all_reduce. Every rank gets the whole loss L.
Tensor barlow_twins_loss_dist(const Tensor& z1, const Tensor& z2, double lambda, dist::ProcessGroup& group);

// This rank's 2n anchors against the 2N_global normalised embeddings gathered from every
// rank with gradients; positives at offset rank·n. Mean over the local anchors.
Tensor nt_xent_loss_dist(const Tensor& z1, const Tensor& z2, double tau, dist::ProcessGroup& group);

}  // namespace bt::methods
