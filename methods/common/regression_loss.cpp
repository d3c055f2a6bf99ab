#include "methods/common/regression_loss.h"

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/ssl_losses.h"
#include "kernels/cuda/ssl_losses.h"
#include "methods/common/fused_loss_support.h"

namespace bt::methods {

Tensor byol_loss(const Tensor& p, const Tensor& t) {
  const Device dev = check_embeddings("byol_loss", p, t);
  const int64_t N = p.size(0), D = p.size(1);
  Tensor pc = p.contiguous().detach(), tc = t.contiguous().detach();
  Tensor dp = Tensor::empty(pc.shape(), pc.dtype(), pc.device());
  double loss = 0;
  if (dev != Device::cpu) {
    Tensor ws = device_workspace(dev, cuda::byol_workspace_size(N, D));
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      loss = cuda::byol_loss<B>(N, D, pc.data<float>(), tc.data<float>(), 1.0f, dp.data<float>(),
                                ws.data<float>(), nullptr);
    });
  } else {
    ops_detail::dispatch_dtype(pc.dtype(), [&](auto tag) {
      using T = decltype(tag);
      loss = cpu::byol_loss<T>(N, D, pc.data<T>(), tc.data<T>(), T(1), dp.data<T>());
    });
  }
  // Only p receives a gradient: t is the target branch (stop-gradient).
  return record(scalar_like(pc, loss), "byol_loss", {p}, [dp](const Tensor& g) {
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
