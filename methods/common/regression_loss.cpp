#include "methods/common/regression_loss.h"

#include "engine/autograd.h"
#include "engine/fused_ssl.h"
#include "engine/ops.h"

namespace bt::methods {

Tensor byol_loss(const Tensor& p, const Tensor& t) {
  FusedLossResult r = regression_fused(p, t);
  // Only p receives a gradient: t is the target branch (stop-gradient).
  return record(r.loss, "byol_loss", {p}, [dp = r.dz1](const Tensor& g) {
    return std::vector<Tensor>{mul(dp, g.item())};
  });
}

namespace composed {

Tensor byol_loss(const Tensor& p, const Tensor& t) {
  Tensor cos = sum(mul(l2_normalize(p), l2_normalize(t.detach())), {1});
  return mean(add(mul(cos, -2.0), 2.0));  // mean of 2 − 2cos
}

}  // namespace composed

}  // namespace bt::methods
