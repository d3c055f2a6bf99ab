#include "methods/vicreg/vicreg_loss.h"

#include "engine/autograd.h"
#include "engine/dist/collectives.h"
#include "engine/fused_ssl.h"
#include "engine/ops.h"

namespace bt::methods {

Tensor vicreg_loss(const Tensor& z1, const Tensor& z2, const VicregWeights& w) {
  FusedLossResult r = vicreg_fused(z1, z2, w);
  return record(r.loss, "vicreg_loss", {z1, z2}, [dz1 = r.dz1, dz2 = r.dz2](const Tensor& g) {
    const double s = g.item();
    return std::vector<Tensor>{mul(dz1, s), mul(dz2, s)};
  });
}

Tensor vicreg_loss_dist(const Tensor& z1, const Tensor& z2, const VicregWeights& w,
                        dist::ProcessGroup& group) {
  return vicreg_loss(dist::all_gather(z1, group), dist::all_gather(z2, group), w);
}

namespace composed {

// The loss of kernels/cpu/vicreg.h term by term, differentiated by autograd.
Tensor vicreg_loss(const Tensor& z1, const Tensor& z2, const VicregWeights& w) {
  const double N = double(z1.size(0)), D = double(z1.size(1));
  Tensor invariance = mean(pow(sub(z1, z2), 2.0));  // (1/(N·D)) Σ (z1 − z2)²
  Tensor variance = Tensor::zeros({}, z1.dtype(), z1.device()), covariance = variance;
  for (const Tensor& z : {z1, z2}) {
    Tensor zc = sub(z, mean(z, {0}, true));
    Tensor var = mul(sum(mul(zc, zc), {0}), 1.0 / (N - 1));             // C_jj, unbiased (D)
    Tensor c = mul(matmul(zc.t(), zc), 1.0 / (N - 1));                   // C(z) (D, D)
    Tensor hinge = relu(add(mul(sqrt(add(var, w.eps)), -1.0), w.gamma));  // max(0, γ − sqrt(var + ε))
    variance = add(variance, mul(sum(hinge), 1.0 / D));
    // Σ_{i≠j} C_ij² = Σ C² − Σ_j C_jj²
    covariance = add(covariance, mul(sub(sum(mul(c, c)), sum(mul(var, var))), 1.0 / D));
  }
  return add(add(mul(invariance, w.invariance), mul(variance, w.variance)), mul(covariance, w.covariance));
}

}  // namespace composed

}  // namespace bt::methods
