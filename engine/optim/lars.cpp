#include "engine/optim/lars.h"

#include <cmath>

#include "engine/ops/dispatch.h"
#include "kernels/cpu/optim_kernels.h"

namespace bt::optim {

LARS::LARS(std::vector<ParamGroup> groups, LarsOptions opts)
    : Optimizer(std::move(groups)), options(opts) {
  BT_CHECK(options.momentum >= 0, "LARS: momentum must be >= 0, got ", options.momentum);
  BT_CHECK(options.eta > 0, "LARS: eta must be > 0, got ", options.eta);
}

void LARS::update(const ParamGroup& group, const std::string& name, const Tensor& p,
                  const Tensor& g) {
  Tensor buf = slot(name, slots()[0], p);
  const int64_t n = p.numel();
  const bool adapt = !group.exclude_from_adaptation;
  const double wd = adapt ? group.weight_decay : 0.0;
  double q = 1.0;
  if (adapt) {
    double p_norm2 = 0, d_norm2 = 0;
    BT_DISPATCH(p.dtype(), T,
                cpu::lars_norms<T>(n, p.data<T>(), g.data<T>(), T(wd), &p_norm2, &d_norm2));
    q = cpu::lars_trust_ratio(std::sqrt(p_norm2), std::sqrt(d_norm2), options.eta, group.lr,
                              options.clip_lr);
  }
  BT_DISPATCH(p.dtype(), T,
              cpu::lars_update<T>(n, p.data<T>(), g.data<T>(), buf.data<T>(), T(group.lr),
                                  T(options.momentum), T(wd), T(q)));
}

}  // namespace bt::optim
