#include "engine/dist/sync_batch_norm.h"

#include "engine/autograd.h"
#include "engine/dist/collectives.h"
#include "engine/ops.h"

namespace bt::dist {

Tensor sync_batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, double momentum, double eps, ProcessGroup& group) {
  const bool image = x.dim() == 4;
  const int64_t C = x.size(1);
  const std::vector<int64_t> dims = image ? std::vector<int64_t>{0, 2, 3} : std::vector<int64_t>{0};
  const Shape per_channel = image ? Shape{1, C, 1, 1} : Shape{1, C};
  const double local_count = double(x.numel() / C);

  // Pass 1: Σ x and the row count, one all_reduce: [Σx (C), count (1)].
  Tensor count = Tensor::full({1}, local_count, DType::f32, x.device());
  Tensor totals = all_reduce_sum(cat({sum(x, dims), count}, 0), group);
  const double M = totals.slice(0, C, C + 1).item();
  Tensor mu = mul(totals.slice(0, 0, C), 1.0 / M);
  Tensor centred = sub(x, mu.reshape(per_channel));
  // Pass 2: Σ (x − μ)².
  Tensor var = mul(all_reduce_sum(sum(mul(centred, centred), dims), group), 1.0 / M);
  Tensor y = mul(centred, pow(add(var, eps), -0.5).reshape(per_channel));
  if (gamma.defined()) y = mul(y, gamma.reshape(per_channel));
  if (beta.defined()) y = add(y, beta.reshape(per_channel));

  if (running_mean.defined()) {
    NoGradGuard no_grad;
    const double unbias = M > 1 ? M / (M - 1) : 1.0;
    running_mean.copy_(add(mul(running_mean, 1 - momentum), mul(mu.detach(), momentum)));
    running_var.copy_(add(mul(running_var, 1 - momentum), mul(var.detach(), momentum * unbias)));
  }
  return y;
}

}  // namespace bt::dist
