#include "methods/simclr/simclr_loss.h"

#include "engine/autograd.h"
#include "engine/dist/collectives.h"
#include "engine/fused_ssl.h"
#include "engine/ops.h"

namespace bt::methods {

Tensor nt_xent_loss(const Tensor& z1, const Tensor& z2, double tau) {
  check_embeddings("nt_xent_loss", z1, z2);
  BT_CHECK(tau > 0, "nt_xent_loss: temperature must be positive, got ", tau);
  Tensor z = l2_normalize(cat({z1, z2}, 0));  // (2N, D), differentiable
  Tensor zc = z.contiguous().detach();
  NtXentForward f = nt_xent_fused_forward(zc, tau);
  return record(f.loss, "nt_xent_loss", {z}, [zc, saved = f.saved, tau](const Tensor& g) {
    return std::vector<Tensor>{nt_xent_fused_backward(zc, tau, saved, g.item())};
  });
}

Tensor nt_xent_loss_dist(const Tensor& z1, const Tensor& z2, double tau, dist::ProcessGroup& group) {
  Tensor n1 = l2_normalize(z1), n2 = l2_normalize(z2);
  const int64_t offset = int64_t(group.rank()) * z1.size(0);
  return composed::nt_xent_loss_of_anchors(n1, n2, dist::all_gather(n1, group), dist::all_gather(n2, group),
                                           offset, tau);
}

namespace composed {

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

}  // namespace composed

}  // namespace bt::methods
