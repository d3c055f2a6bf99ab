#include "engine/optim/ema.h"

#include "engine/autograd.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/optim_kernels.h"

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
    BT_CHECK(t.device() != Device::cuda, "ema_update_: only host kernels exist (tensor ", i,
             " is on cuda)");
    BT_CHECK(t.is_contiguous(), "ema_update_: target tensor ", i, " is not contiguous");
    const Tensor o = online[i].contiguous();
    BT_DISPATCH(t.dtype(), T, cpu::ema_update<T>(t.numel(), t.data<T>(), o.data<T>(), T(tau)));
  }
}

}  // namespace bt::optim
