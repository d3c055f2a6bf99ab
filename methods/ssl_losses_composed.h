#pragma once
// The SSL losses written with primitive ops only, differentiated by autograd: the readable
// statement of each loss, and the oracle the fused versions are tested against. The pieces
// the data-parallel losses share (methods/ssl_losses_dist.h) are exposed.
#include "engine/tensor.h"

namespace bt::methods::composed {

Tensor barlow_twins_loss(const Tensor& z1, const Tensor& z2, double lambda);
// Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij² of a cross-correlation C (D, D).
Tensor barlow_twins_loss_of_correlation(const Tensor& c, double lambda);

Tensor nt_xent_loss(const Tensor& z1, const Tensor& z2, double tau);
// NT-Xent of the 2n anchors [a1; a2] (rows l2-normalised, n each) against the 2B candidates
// [c1; c2], where a1, a2 are rows offset … offset + n − 1 of c1, c2: anchor i's positive is
// row B + offset + i, anchor n + i's is row offset + i; each anchor's own row is excluded.
// Mean over the 2n anchors. nt_xent_loss is the case a = c, offset 0.
Tensor nt_xent_loss_of_anchors(const Tensor& a1, const Tensor& a2, const Tensor& c1, const Tensor& c2,
                               int64_t offset, double tau);

Tensor byol_loss(const Tensor& p, const Tensor& t);

}  // namespace bt::methods::composed
