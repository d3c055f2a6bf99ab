#include "methods/ssl_losses_composed.h"

#include "engine/ops.h"
#include "kernels/cpu/ssl_losses.h"

namespace bt::methods::composed {

namespace {
// Per-column standardisation over the batch with the biased variance (BatchNorm1d, no affine).
Tensor standardize(const Tensor& z) {
  Tensor centered = sub(z, mean(z, {0}, true));
  Tensor var = mean(mul(centered, centered), {0}, true);
  return div(centered, sqrt(add(var, cpu::kBarlowTwinsBnEps)));
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

Tensor nt_xent_loss_of_anchors(const Tensor& a1, const Tensor& a2, const Tensor& c1, const Tensor& c2,
                               int64_t offset, double tau) {
  const int64_t n = a1.size(0), B = c1.size(0);
  Tensor anchors = cat({a1, a2}, 0);                                // (2n, D)
  Tensor s = mul(matmul(anchors, cat({c1, c2}, 0).t()), 1.0 / tau);  // (2n, 2B)
  // s_ii = −∞: a large negative on each anchor's own column removes it from its softmax.
  std::vector<double> self_mask(size_t(2 * n * 2 * B), 0.0);
  std::vector<int64_t> positives(size_t(2 * n));
  for (int64_t i = 0; i < n; ++i) {
    self_mask[size_t(i * 2 * B + offset + i)] = -1e9;
    self_mask[size_t((n + i) * 2 * B + B + offset + i)] = -1e9;
    positives[size_t(i)] = B + offset + i;  // view 1's anchor i: view 2 of the same image
    positives[size_t(n + i)] = offset + i;
  }
  Tensor mask = Tensor::from_vector(self_mask, {2 * n, 2 * B}, s.dtype()).to(s.device());
  return cross_entropy(add(s, mask), positives);
}

Tensor nt_xent_loss(const Tensor& z1, const Tensor& z2, double tau) {
  Tensor n1 = l2_normalize(z1), n2 = l2_normalize(z2);
  return nt_xent_loss_of_anchors(n1, n2, n1, n2, 0, tau);
}

Tensor byol_loss(const Tensor& p, const Tensor& t) {
  Tensor cos = sum(mul(l2_normalize(p), l2_normalize(t.detach())), {1});
  return mean(add(mul(cos, -2.0), 2.0));  // mean of 2 − 2cos
}

}  // namespace bt::methods::composed
