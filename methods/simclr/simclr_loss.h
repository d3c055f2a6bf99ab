#pragma once
// SimCLR's NT-Xent loss (Chen et al. 2020; docs/design.md §5 has the math) over
// z = normalize(cat(z1, z2)) with temperature τ, as one fused autograd op over
// kernels/cpu/ssl_loss_kernels.h on the cpu device, or kernels/cuda/ssl_loss_launchers.h on simt/cuda
// (float32). composed::nt_xent_loss builds the same loss from primitive ops: the readable
// statement, and the oracle the fused op is tested against.
#include "engine/dist/process_group.h"
#include "engine/tensor.h"

namespace bt::methods {

// z1, z2 (N, D). The 2N×2N similarity matrix is never stored (online softmax over column tiles).
Tensor nt_xent_loss(const Tensor& z1, const Tensor& z2, double tau);

// Over the global batch of a process group (docs/distributed.md), rank r holding rows
// r·n … (r+1)·n − 1 of each view: this rank's 2n anchors against the 2N_global normalised
// embeddings gathered from every rank with gradients; positives at offset r·n. Mean over the
// local anchors: under the convention of engine/dist/collectives.h (L = mean of the ranks'
// losses, gradients averaged) that is the one-process loss on the global batch.
Tensor nt_xent_loss_dist(const Tensor& z1, const Tensor& z2, double tau, dist::ProcessGroup& group);

namespace composed {
Tensor nt_xent_loss(const Tensor& z1, const Tensor& z2, double tau);
// NT-Xent of the 2n anchors [a1; a2] (rows l2-normalised, n each) against the 2B candidates
// [c1; c2], where a1, a2 are rows offset … offset + n − 1 of c1, c2: anchor i's positive is
// row B + offset + i, anchor n + i's is row offset + i; each anchor's own row is excluded.
// Mean over the 2n anchors. nt_xent_loss is the case a = c, offset 0; nt_xent_loss_dist the
// case of one rank's anchors.
Tensor nt_xent_loss_of_anchors(const Tensor& a1, const Tensor& a2, const Tensor& c1, const Tensor& c2,
                               int64_t offset, double tau);
}  // namespace composed

}  // namespace bt::methods
