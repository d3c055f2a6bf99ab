#include "engine/optim/lars.h"

#include <cmath>

#include "engine/ops/dispatch.h"
#include "kernels/cpu/optim_kernels.h"
#include "kernels/cuda/optim.h"

namespace bt::optim {

LARS::LARS(std::vector<ParamGroup> groups, LarsOptions opts)
    : Optimizer(std::move(groups)), options(opts) {
  BT_CHECK(options.momentum >= 0, "LARS: momentum must be >= 0, got ", options.momentum);
  BT_CHECK(options.eta > 0, "LARS: eta must be > 0, got ", options.eta);
}

namespace {

// simt/cuda (kernels/cuda/optim): pass 1 leaves ‖p‖², ‖g + wd·p‖² in a device workspace, pass 2
// evaluates the trust ratio on the device (no host round trip); excluded parameters get q = 1.
void update_device(const ParamGroup& group, const LarsOptions& options, const Tensor& p,
                   const Tensor& g, const Tensor& buf, bool adapt, double wd) {
  const int64_t n = p.numel();
  Tensor workspace;  // (kLarsWorkspace) f64 on the device
  if (adapt) workspace = Tensor::empty({cuda::kLarsWorkspace}, DType::f64, p.device());
  double* norms2 = adapt ? workspace.data<double>() : nullptr;
  ops_detail::dispatch_cuda_backend(p.device(), [&](auto backend) {
    using B = decltype(backend);
    if (adapt) cuda::lars_norms<B>(n, p.data<float>(), g.data<float>(), float(wd), norms2, nullptr);
    cuda::lars_update<B>(n, p.data<float>(), g.data<float>(), buf.data<float>(), float(group.lr),
                         float(options.momentum), float(wd), norms2, options.eta, options.clip_lr,
                         nullptr);
  });
}

}  // namespace

void LARS::update(const ParamGroup& group, const std::string& name, const Tensor& p,
                  const Tensor& g) {
  Tensor buf = slot(name, slots()[0], p);
  const int64_t n = p.numel();
  const bool adapt = !group.exclude_from_adaptation;
  const double wd = adapt ? group.weight_decay : 0.0;
  if (p.device() != Device::cpu) {
    update_device(group, options, p, g, buf, adapt, wd);
    return;
  }
  double q = 1.0;
  if (adapt) {
    double p_norm2 = 0, d_norm2 = 0;
    ops_detail::dispatch_dtype(p.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::lars_norms<T>(n, p.data<T>(), g.data<T>(), T(wd), &p_norm2, &d_norm2);
    });
    q = cpu::lars_trust_ratio(std::sqrt(p_norm2), std::sqrt(d_norm2), options.eta, group.lr,
                              options.clip_lr);
  }
  ops_detail::dispatch_dtype(p.dtype(), [&](auto tag) {
    using T = decltype(tag);
    cpu::lars_update<T>(n, p.data<T>(), g.data<T>(), buf.data<T>(), T(group.lr), T(options.momentum), T(wd),
                        T(q));
  });
}

}  // namespace bt::optim
