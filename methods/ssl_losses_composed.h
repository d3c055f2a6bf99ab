#pragma once
// The SSL losses written with primitive ops only, differentiated by autograd: the readable
// statement of each loss, and the oracle the fused versions are tested against.
#include "engine/tensor.h"

namespace bt::methods::composed {

Tensor barlow_twins_loss(const Tensor& z1, const Tensor& z2, double lambda);
Tensor nt_xent_loss(const Tensor& z1, const Tensor& z2, double tau);
Tensor byol_loss(const Tensor& p, const Tensor& t);

}  // namespace bt::methods::composed
