#include "methods/common/fused_loss_support.h"

#include "engine/ops/dispatch.h"

namespace bt::methods {

Device check_embeddings(const char* op, const Tensor& a, const Tensor& b) {
  const Device dev = ops_detail::check_device_args(op, {a, b});
  BT_CHECK(a.dim() == 2 && a.shape() == b.shape(), op, ": expected two embeddings (N, D) of one shape, got ",
           shape_str(a.shape()), " and ", shape_str(b.shape()));
  return dev;
}

Tensor device_workspace(Device dev, int64_t floats) { return Tensor::empty({floats}, DType::f32, dev); }

Tensor scalar_like(const Tensor& t, double v) { return Tensor::full({}, v, t.dtype(), t.device()); }

}  // namespace bt::methods
