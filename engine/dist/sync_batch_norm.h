#pragma once
// Synchronised batch normalisation (training mode): the statistics of the global batch, every
// rank's rows together, as one process would compute them on the whole batch.
#include "engine/dist/process_group.h"

namespace bt::dist {

// x (N, C) or (N, C, H, W) float32; gamma/beta (C) or undefined; running_mean/var (C) updated
// in place as nn::BatchNorm does (PyTorch's momentum; unbiased running variance). Two
// all_reduces, both differentiable (engine/dist/collectives.h), so autograd gives SyncBN's
// backward, including the gradient through the global mean and variance:
//   μ = Σ_ranks Σ x / M,   σ² = Σ_ranks Σ (x − μ)² / M,   y = γ (x − μ) / √(σ² + ε) + β,
// M the global count of values per channel. The second pass over centred values avoids the
// cancellation of E[x²] − μ² in float32.
Tensor sync_batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, double momentum, double eps, ProcessGroup& group);

}  // namespace bt::dist
