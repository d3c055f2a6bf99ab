#include "engine/optim/ema.h"

#include "engine/autograd.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/optim_kernels.h"
#include "kernels/cuda/optim.h"

namespace bt::optim {

void ema_update_(const std::vector<Tensor>& target, const std::vector<Tensor>& online,
                 double tau) {
  BT_CHECK(target.size() == online.size(), "ema_update_: ", target.size(), " target vs ",
           online.size(), " online tensors");
  NoGradGuard no_grad;
  for (size_t i = 0; i < target.size(); ++i) {
    const Tensor& t = target[i];
    BT_CHECK(t.shape() == online[i].shape() && t.dtype() == online[i].dtype() &&
                 t.device() == online[i].device(),
             "ema_update_: tensor ", i, " differs: target ", shape_str(t.shape()), " ",
             dtype_name(t.dtype()), " on ", device_name(t.device()), ", online ",
             shape_str(online[i].shape()), " ", dtype_name(online[i].dtype()), " on ",
             device_name(online[i].device()));
    BT_CHECK(t.device() == Device::cpu || t.dtype() == DType::f32, "ema_update_: tensor ", i,
             " is ", dtype_name(t.dtype()), " on ", device_name(t.device()),
             "; the device kernels are float32");
    BT_CHECK(t.is_contiguous(), "ema_update_: target tensor ", i, " is not contiguous");
    const Tensor o = online[i].contiguous();
    if (t.device() == Device::cpu)
      ops_detail::dispatch_dtype(t.dtype(), [&](auto tag) {
        using T = decltype(tag);
        cpu::ema_update<T>(t.numel(), t.data<T>(), o.data<T>(), T(tau));
      });
    else  // simt/cuda: kernels/cuda/optim
      ops_detail::dispatch_cuda_backend(t.device(), [&](auto backend) {
        using B = decltype(backend);
        cuda::ema_update<B>(t.numel(), t.data<float>(), o.data<float>(), float(tau), nullptr);
      });
  }
}

}  // namespace bt::optim
