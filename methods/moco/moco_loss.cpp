#include "methods/moco/moco_loss.h"

#include "engine/ops.h"

namespace bt::methods {

Tensor moco_infonce_loss(const Tensor& q, const Tensor& k, const Tensor& queue, double tau) {
  BT_CHECK(q.dim() == 2 && q.shape() == k.shape(), "moco_infonce_loss: expected queries and keys (N, D) of one shape, got ",
           shape_str(q.shape()), " and ", shape_str(k.shape()));
  BT_CHECK(queue.dim() == 2 && queue.size(1) == q.size(1), "moco_infonce_loss: expected a queue (K, ", q.size(1),
           "), got ", shape_str(queue.shape()));
  BT_CHECK(tau > 0, "moco_infonce_loss: the temperature must be positive, got ", tau);
  Tensor positive = sum(mul(q, k.detach()), {1}, /*keepdim=*/true);  // (N, 1): q_n·k_n
  Tensor negatives = linear(q, queue.detach());                      // (N, K): q_n·queue_j
  Tensor logits = mul(cat({positive, negatives}, 1), 1.0 / tau);
  return cross_entropy(logits, std::vector<int64_t>(size_t(q.size(0)), 0));
}

}  // namespace bt::methods
