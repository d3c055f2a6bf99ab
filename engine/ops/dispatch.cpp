#include "engine/ops/dispatch.h"

#include "engine/allocator.h"
#include "engine/precision.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cuda/copy.h"

namespace bt::ops_detail {

namespace {

// The first defined input, after checking that all defined inputs share its device and dtype.
const Tensor& common_input(const char* op, const std::vector<Tensor>& xs) {
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
  return *first;
}

}  // namespace

Device check_device_args(const char* op, const std::vector<Tensor>& xs, bool f64_ok) {
  const Tensor& first = common_input(op, xs);
  const Device d = first.device();
  BT_CHECK(d == Device::cpu || first.dtype() == DType::f32 || f64_ok, op, ": ", dtype_name(first.dtype()),
           " is not supported on device ", device_name(d),
           " (its CUDA kernels are float32; use float32 or the cpu device)");
  return d;
}

void no_kernel(const char* op, Device device) {
  detail::fail("op ", op, " has no kernel for device ", device_name(device));
}

void no_cuda_backend() {
  detail::fail("no CUDA device: this build has no CUDA backend (bt_cuda_kernels)");
}

void device_strided_copy(Device device, int ndim, const int64_t* shape, const float* src,
                         const int64_t* src_strides, float* dst, const int64_t* dst_strides) {
  if (device == Device::cpu) {
    cpu::strided_copy<float, float>(ndim, shape, src, src_strides, dst, dst_strides);
    return;
  }
  BT_CHECK(ndim <= cuda::kMaxCopyDims, "copy: ", ndim, " dimensions on device ", device_name(device), " (at most ",
           cuda::kMaxCopyDims, ")");
  cuda::StridedLayout layout;
  layout.ndim = ndim;
  for (int k = 0; k < ndim; ++k) {
    layout.shape[k] = shape[k];
    layout.src_strides[k] = src_strides[k];
    layout.dst_strides[k] = dst_strides[k];
  }
  ops_detail::dispatch_cuda_backend(device, [&](auto backend) {
    using B = decltype(backend);
    cuda::strided_copy<B>(layout, src, dst, nullptr);
  });
}

std::shared_ptr<void> device_buffer(size_t bytes, Device device) {
  void* p = allocator(device).allocate(bytes);
  return std::shared_ptr<void>(p, [bytes, device](void* q) { allocator(device).deallocate(q, bytes); });
}

void check_dims(const char* op, const Tensor& x, int64_t ndim, const char* what) {
  BT_CHECK(x.dim() == ndim, op, ": expected ", what, " with ", ndim, " dimensions, got shape ",
           shape_str(x.shape()));
}

bool writes_bf16_rounding(const Tensor& out) {
  return out.device() == Device::cpu && out.dtype() == DType::f32 && out.layout() == Layout::nChw16c &&
         compute_precision() == Precision::bf16;
}

}  // namespace bt::ops_detail
