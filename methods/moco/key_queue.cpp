#include "methods/moco/key_queue.h"

#include <algorithm>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace bt::methods {

Tensor random_unit_rows(int64_t K, int64_t D, Rng& rng) {
  NoGradGuard no_grad;
  return l2_normalize(randn({K, D}, rng));
}

void enqueue_keys_(const Tensor& queue, const Tensor& ptr, const Tensor& keys) {
  BT_CHECK(queue.dim() == 2 && queue.is_contiguous(), "enqueue_keys_: expected a contiguous queue (K, D), got ",
           shape_str(queue.shape()));
  BT_CHECK(keys.dim() == 2 && keys.size(1) == queue.size(1), "enqueue_keys_: expected keys (M, ", queue.size(1),
           "), got ", shape_str(keys.shape()));
  const int64_t K = queue.size(0), M = keys.size(0);
  BT_CHECK(M <= K, "enqueue_keys_: ", M, " keys in one step exceed the queue size ", K,
           " (use a larger queue or a smaller batch)");
  BT_CHECK(ptr.numel() == 1, "enqueue_keys_: the write position must have one element, got ", shape_str(ptr.shape()));
  const int64_t p = int64_t(ptr.item());
  BT_CHECK(p >= 0 && p < K, "enqueue_keys_: write position ", p, " outside the queue [0, ", K, ")");
  NoGradGuard no_grad;
  const Tensor k = keys.detach().contiguous();
  const int64_t first = std::min(M, K - p);  // rows p … p+first−1, then the rest from row 0
  queue.slice(0, p, p + first).copy_(k.slice(0, 0, first));
  if (first < M) queue.slice(0, 0, M - first).copy_(k.slice(0, first, M));
  ptr.fill_(double((p + M) % K));
}

}  // namespace bt::methods
