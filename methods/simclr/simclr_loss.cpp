#include "methods/simclr/simclr_loss.h"

#include "engine/autograd.h"
#include "engine/dist/collectives.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/ssl_losses.h"
#include "kernels/cuda/ssl_losses.h"
#include "methods/common/fused_loss_support.h"

namespace bt::methods {

Tensor nt_xent_loss(const Tensor& z1, const Tensor& z2, double tau) {
  const Device dev = check_embeddings("nt_xent_loss", z1, z2);
  BT_CHECK(tau > 0, "nt_xent_loss: temperature must be positive, got ", tau);
  const int64_t N = z1.size(0), D = z1.size(1);
  Tensor z = l2_normalize(cat({z1, z2}, 0));  // (2N, D), differentiable
  Tensor zc = z.contiguous().detach();
  // Per row: the log-sum-exp and q = 1 − p_pos (the CPU and CUDA layouts are the same).
  Tensor saved = Tensor::empty({cpu::nt_xent_saved_size(N)}, zc.dtype(), zc.device());
  double loss = 0;
  if (dev != Device::cpu) {
    Tensor ws = device_workspace(dev, cuda::nt_xent_workspace_size(N, D));
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      loss = cuda::nt_xent_forward<B>(N, D, zc.data<float>(), float(tau), saved.data<float>(),
                                      ws.data<float>(), nullptr);
    });
  } else {
    ops_detail::dispatch_dtype(zc.dtype(), [&](auto tag) {
      using T = decltype(tag);
      loss = cpu::nt_xent_forward<T>(N, D, zc.data<T>(), T(tau), saved.data<T>());
    });
  }
  return record(scalar_like(zc, loss), "nt_xent_loss", {z}, [N, D, zc, saved, tau, dev](const Tensor& g) {
    Tensor dz = Tensor::empty(zc.shape(), zc.dtype(), zc.device());
    if (dev != Device::cpu) {
      Tensor ws = device_workspace(dev, cuda::nt_xent_workspace_size(N, D));
      ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
        using B = decltype(backend);
        cuda::nt_xent_backward<B>(N, D, zc.data<float>(), float(tau), saved.data<float>(), float(g.item()),
                                  dz.data<float>(), ws.data<float>(), nullptr);
      });
      return std::vector<Tensor>{dz};
    }
    ops_detail::dispatch_dtype(zc.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::nt_xent_backward<T>(N, D, zc.data<T>(), T(tau), saved.data<T>(), T(g.item()), dz.data<T>());
    });
    return std::vector<Tensor>{dz};
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
