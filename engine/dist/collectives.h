#pragma once
// Differentiable collectives and the data-parallel plumbing of a training step
// (docs/distributed.md has the gradient conventions).
//
// Convention: rank r computes a loss L_r with L = (1/W) Σ_r L_r, and its parameter gradients
// are averaged over the W ranks (average_gradients). For that average to be ∇L, every
// cross-rank dependency must carry the gradient of Σ_r L_r back to its source rank:
//   all_reduce_sum: y = Σ_r x_r on every rank.  ∂(Σ L)/∂x_s = Σ_r ∂L_r/∂y, so the backward is
//                   an all_reduce_sum of the incoming gradients (not the identity: that loses
//                   a factor W, lightly's bug #1977).
//   all_gather:     y = [x_0; …; x_{W−1}].  ∂(Σ L)/∂x_s = Σ_r (∂L_r/∂y)[slice s]: all_reduce_sum
//                   of the incoming gradient, then this rank's slice.
#include <vector>

#include "engine/dist/process_group.h"
#include "engine/nn/module.h"

namespace bt::dist {

Tensor all_reduce_sum(const Tensor& x, ProcessGroup& group);  // float32
Tensor all_gather(const Tensor& x, ProcessGroup& group);      // (N, ...) -> (W·N, ...)

// Averages the gradients of `params` over the ranks: flattened into buckets of about
// bucket_bytes in the order given (the same on every rank), one all_reduce each, scaled by
// 1/W. A parameter without a gradient contributes zeros and receives the average.
void average_gradients(const std::vector<Tensor>& params, ProcessGroup& group, size_t bucket_bytes = 4 << 20);

// Copies rank 0's values into every rank's tensors (in the order given, the same everywhere).
void broadcast_tensors(const std::vector<Tensor>& tensors, ProcessGroup& group);
// broadcast_tensors of the module's parameters, then its buffers (registration order).
void broadcast_module(nn::Module& module, ProcessGroup& group);

}  // namespace bt::dist
