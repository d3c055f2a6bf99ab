#pragma once
// The regression loss of BYOL and SimSiam (methods/byol, methods/simsiam): a prediction p
// regresses a target t that gets no gradient,
//   byol_loss(p, t) = mean over rows of 2 − 2·cos(p, t),
// as one fused autograd op over kernels/cpu/ssl_loss_kernels.h on the cpu device, or
// kernels/cuda/ssl_loss_launchers.h on simt/cuda (float32). composed::byol_loss builds it from
// primitive ops: the readable statement, and the oracle the fused op is tested against.
// Data-parallel runs need no global-batch piece: the loss is a mean of per-row terms, so the
// mean of the ranks' losses over equal shards is the global batch's.
#include "engine/tensor.h"

namespace bt::methods {

// p, t (N, D); only p receives a gradient.
Tensor byol_loss(const Tensor& p, const Tensor& t);

namespace composed {
Tensor byol_loss(const Tensor& p, const Tensor& t);
}  // namespace composed

}  // namespace bt::methods
