#pragma once
// The VICReg loss (kernels/cpu/vicreg.h has the formula: λ·invariance + μ·variance +
// ν·covariance) as one fused autograd op over kernels/cpu/vicreg.h on the cpu device, or
// kernels/cuda/vicreg.h on simt/cuda (float32); the gradient is computed in the pass that
// computes the loss. composed::vicreg_loss builds the same loss from primitive ops: the
// readable statement, and the oracle the fused op is tested against.
#include "engine/dist/process_group.h"
#include "engine/fused_ssl.h"
#include "engine/tensor.h"

namespace bt::methods {

// z1, z2 (N, D), N > 1.
Tensor vicreg_loss(const Tensor& z1, const Tensor& z2, const VicregWeights& w = {});

// Over the global batch of a process group (docs/distributed.md): each rank all_gathers both
// views with gradients and computes the whole loss (L_r = L, as Barlow Twins' C does), so the
// variances and covariances are the global batch's.
Tensor vicreg_loss_dist(const Tensor& z1, const Tensor& z2, const VicregWeights& w,
                        dist::ProcessGroup& group);

namespace composed {
Tensor vicreg_loss(const Tensor& z1, const Tensor& z2, const VicregWeights& w = {});
}  // namespace composed

}  // namespace bt::methods
