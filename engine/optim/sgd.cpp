#include "engine/optim/sgd.h"

#include "engine/ops/dispatch.h"
#include "kernels/cpu/optim_kernels.h"
#include "kernels/cuda/optim.h"

namespace bt::optim {

SGD::SGD(std::vector<ParamGroup> groups, SgdOptions opts)
    : Optimizer(std::move(groups)), options(opts) {
  BT_CHECK(options.momentum >= 0, "SGD: momentum must be >= 0, got ", options.momentum);
  BT_CHECK(!options.nesterov || options.momentum > 0, "SGD: nesterov needs momentum > 0");
}

void SGD::update(const ParamGroup& group, const std::string& name, const Tensor& p,
                 const Tensor& g) {
  bool first = false;
  Tensor buf = options.momentum != 0 ? slot(name, slots()[0], p, &first) : Tensor();
  if (p.device() != Device::cpu) {  // simt/cuda: kernels/cuda/optim
    ops_detail::dispatch_cuda_backend(p.device(), [&](auto backend) {
      using B = decltype(backend);
      cuda::sgd_step<B>(p.numel(), p.data<float>(), g.data<float>(),
                        buf.defined() ? buf.data<float>() : nullptr, float(group.lr), float(options.momentum),
                        float(group.weight_decay), options.nesterov, first, nullptr);
    });
    return;
  }
  ops_detail::dispatch_dtype(p.dtype(), [&](auto tag) {
    using T = decltype(tag);
    cpu::sgd_step<T>(p.numel(), p.data<T>(), g.data<T>(), buf.defined() ? buf.data<T>() : nullptr,
                     T(group.lr), T(options.momentum), T(group.weight_decay), options.nesterov, first);
  });
}

}  // namespace bt::optim
