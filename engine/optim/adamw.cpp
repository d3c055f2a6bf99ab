#include "engine/optim/adamw.h"

#include "engine/ops/dispatch.h"
#include "kernels/cpu/optim_kernels.h"
#include "kernels/cuda/optim.h"

namespace bt::optim {

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions opts)
    : Optimizer(std::move(groups)), options(opts) {
  BT_CHECK(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
           "AdamW: betas must be in [0, 1), got (", options.beta1, ", ", options.beta2, ")");
  BT_CHECK(options.eps > 0, "AdamW: eps must be > 0, got ", options.eps);
}

void AdamW::update(const ParamGroup& group, const std::string& name, const Tensor& p,
                   const Tensor& g) {
  const std::vector<SlotSpec> specs = slots();
  Tensor m = slot(name, specs[0], p), v = slot(name, specs[1], p);
  double& step = slot(name, specs[2], p).data<double>()[0];  // a CPU f64 scalar
  step += 1;
  if (p.device() != Device::cpu) {  // simt/cuda: kernels/cuda/optim
    ops_detail::dispatch_cuda_backend(p.device(), [&](auto backend) {
      using B = decltype(backend);
      cuda::adamw_step<B>(p.numel(), p.data<float>(), g.data<float>(), m.data<float>(), v.data<float>(),
                          float(group.lr), float(options.beta1), float(options.beta2), float(options.eps),
                          float(group.weight_decay), int64_t(step), nullptr);
    });
    return;
  }
  ops_detail::dispatch_dtype(p.dtype(), [&](auto tag) {
    using T = decltype(tag);
    cpu::adamw_step<T>(p.numel(), p.data<T>(), g.data<T>(), m.data<T>(), v.data<T>(), T(group.lr),
                       T(options.beta1), T(options.beta2), T(options.eps), T(group.weight_decay),
                       int64_t(step));
  });
}

}  // namespace bt::optim
