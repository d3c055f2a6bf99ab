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

Tensor barlow_twins_loss(const Tensor& z1, const Tensor& z2, double lambda) {
  const double N = double(z1.size(0));
  const int64_t D = z1.size(1);
  Tensor c = mul(matmul(standardize(z1).t(), standardize(z2)), 1.0 / N);  // (D, D)
  Tensor eye = Tensor::zeros({D, D}, z1.dtype());
  for (int64_t i = 0; i < D; ++i) eye.slice(0, i, i + 1).slice(1, i, i + 1).fill_(1);
  Tensor off_mask = add(mul(eye, -1.0), 1.0);
  Tensor on_diag = sum(pow(sub(mul(c, eye), eye), 2.0));  // Σ_i (C_ii − 1)²
  Tensor off_diag = sum(pow(mul(c, off_mask), 2.0));       // Σ_{i≠j} C_ij²
  return add(on_diag, mul(off_diag, lambda));
}

Tensor nt_xent_loss(const Tensor& z1, const Tensor& z2, double tau) {
  const int64_t N = z1.size(0);
  Tensor z = l2_normalize(cat({z1, z2}, 0));  // (2N, D)
  Tensor s = mul(matmul(z, z.t()), 1.0 / tau);  // (2N, 2N)
  // s_ii = −∞: a large negative on the diagonal removes i from its own softmax.
  Tensor diag = Tensor::zeros({2 * N, 2 * N}, z.dtype());
  for (int64_t i = 0; i < 2 * N; ++i) diag.slice(0, i, i + 1).slice(1, i, i + 1).fill_(-1e9);
  std::vector<int64_t> positives(2 * N);
  for (int64_t i = 0; i < 2 * N; ++i) positives[i] = i < N ? i + N : i - N;
  return cross_entropy(add(s, diag), positives);
}

Tensor byol_loss(const Tensor& p, const Tensor& t) {
  Tensor cos = sum(mul(l2_normalize(p), l2_normalize(t.detach())), {1});
  return mean(add(mul(cos, -2.0), 2.0));  // mean of 2 − 2cos
}

}  // namespace bt::methods::composed
