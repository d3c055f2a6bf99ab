#include "engine/ops/dispatch.h"

namespace bt::ops_detail {

void check_args(const char* op, const std::vector<Tensor>& xs) {
  const Tensor* first = nullptr;
  for (const Tensor& x : xs) {
    if (!x.defined()) continue;
    if (first == nullptr) {
      first = &x;
      continue;
    }
    BT_CHECK(x.device() == first->device(), op, ": tensors on different devices (",
             device_name(first->device()), " and ", device_name(x.device()), ")");
    BT_CHECK(x.dtype() == first->dtype(), op, ": tensors of different dtypes (",
             dtype_name(first->dtype()), " and ", dtype_name(x.dtype()), ")");
  }
  BT_CHECK(first != nullptr, op, ": no input tensor");
  BT_CHECK(first->device() == Device::cpu, op, ": no kernel for device ",
           device_name(first->device()), " (only cpu has every op)");
}

void check_dims(const char* op, const Tensor& x, int64_t ndim, const char* what) {
  BT_CHECK(x.dim() == ndim, op, ": expected ", what, " with ", ndim, " dimensions, got shape ",
           shape_str(x.shape()));
}

}  // namespace bt::ops_detail
