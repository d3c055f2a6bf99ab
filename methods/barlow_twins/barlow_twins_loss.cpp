#include "methods/barlow_twins/barlow_twins_loss.h"

#include "engine/autograd.h"
#include "engine/dist/collectives.h"
#include "engine/dist/sync_batch_norm.h"
#include "engine/fused_ssl.h"
#include "engine/ops.h"

namespace bt::methods {

double barlow_twins_auto_lambda(int64_t D) {
  BT_CHECK(D > 1, "lambda = auto needs an embedding dimension above 1, got ", D);
  return 1.0 / double(D - 1);
}

Tensor barlow_twins_loss(const Tensor& z1, const Tensor& z2, double lambda) {
  FusedLossResult r = barlow_twins_fused(z1, z2, lambda);
  return record(r.loss, "barlow_twins_loss", {z1, z2}, [dz1 = r.dz1, dz2 = r.dz2](const Tensor& g) {
    const double s = g.item();
    return std::vector<Tensor>{mul(dz1, s), mul(dz2, s)};
  });
}

Tensor barlow_twins_cross_correlation(const Tensor& z1, const Tensor& z2) {
  check_embeddings("barlow_twins_cross_correlation", z1, z2);
  NoGradGuard no_grad;
  const double N = double(z1.size(0));
  Tensor a = batch_norm(z1.detach(), {}, {}, {}, {}, true, 0.0, kBarlowTwinsBnEps);
  Tensor b = batch_norm(z2.detach(), {}, {}, {}, {}, true, 0.0, kBarlowTwinsBnEps);
  return mul(matmul(a.t(), b), 1.0 / N);
}

Tensor barlow_twins_loss_dist(const Tensor& z1, const Tensor& z2, double lambda, dist::ProcessGroup& group) {
  const auto standardize = [&](const Tensor& z) {
    return dist::sync_batch_norm(z, {}, {}, {}, {}, 0.0, kBarlowTwinsBnEps, group);
  };
  const double global_n = double(z1.size(0) * group.world_size());  // equal shards (data/loader.h)
  Tensor local = mul(matmul(standardize(z1).t(), standardize(z2)), 1.0 / global_n);
  return composed::barlow_twins_loss_of_correlation(dist::all_reduce_sum(local, group), lambda);
}

namespace composed {

namespace {
// Per-column standardisation over the batch with the biased variance (BatchNorm1d, no affine).
Tensor standardize(const Tensor& z) {
  Tensor centered = sub(z, mean(z, {0}, true));
  Tensor var = mean(mul(centered, centered), {0}, true);
  return div(centered, sqrt(add(var, kBarlowTwinsBnEps)));
}
}  // namespace

Tensor barlow_twins_loss_of_correlation(const Tensor& c, double lambda) {
  const int64_t D = c.size(0);
  std::vector<double> eye_values(size_t(D * D), 0.0);
  for (int64_t i = 0; i < D; ++i) eye_values[size_t(i * D + i)] = 1;
  Tensor eye = Tensor::from_vector(eye_values, {D, D}, c.dtype()).to(c.device());
  Tensor off_mask = add(mul(eye, -1.0), 1.0);
  Tensor on_diag = sum(pow(sub(mul(c, eye), eye), 2.0));  // Σ_i (C_ii − 1)²
  Tensor off_diag = sum(pow(mul(c, off_mask), 2.0));       // Σ_{i≠j} C_ij²
  return add(on_diag, mul(off_diag, lambda));
}

Tensor barlow_twins_loss(const Tensor& z1, const Tensor& z2, double lambda) {
  const double N = double(z1.size(0));
  Tensor c = mul(matmul(standardize(z1).t(), standardize(z2)), 1.0 / N);  // (D, D)
  return barlow_twins_loss_of_correlation(c, lambda);
}

}  // namespace composed

}  // namespace bt::methods
