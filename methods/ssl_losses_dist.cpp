#include "methods/ssl_losses_dist.h"

#include "engine/dist/collectives.h"
#include "engine/dist/sync_batch_norm.h"
#include "engine/ops.h"
#include "kernels/cpu/ssl_losses.h"
#include "methods/ssl_losses_composed.h"

namespace bt::methods {

Tensor barlow_twins_loss_dist(const Tensor& z1, const Tensor& z2, double lambda, dist::ProcessGroup& group) {
  const auto standardize = [&](const Tensor& z) {
    return dist::sync_batch_norm(z, {}, {}, {}, {}, 0.0, cpu::kBarlowTwinsBnEps, group);
  };
  const double global_n = double(z1.size(0) * group.world_size());  // equal shards (data/loader.h)
  Tensor local = mul(matmul(standardize(z1).t(), standardize(z2)), 1.0 / global_n);
  return composed::barlow_twins_loss_of_correlation(dist::all_reduce_sum(local, group), lambda);
}

Tensor nt_xent_loss_dist(const Tensor& z1, const Tensor& z2, double tau, dist::ProcessGroup& group) {
  Tensor n1 = l2_normalize(z1), n2 = l2_normalize(z2);
  const int64_t offset = int64_t(group.rank()) * z1.size(0);
  return composed::nt_xent_loss_of_anchors(n1, n2, dist::all_gather(n1, group), dist::all_gather(n2, group),
                                           offset, tau);
}

}  // namespace bt::methods
