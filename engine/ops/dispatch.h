#pragma once
// Helpers shared by the op implementations: dtype and device dispatch, argument checks.
//
// Devices (docs/simt.md): cpu runs kernels/cpu (float32 and float64). simt and cuda run the CUDA
// kernels of kernels/cuda, float32: simt through the SIMT emulator (bt::cuda::Simt, its device
// arena), cuda on a GPU (bt::cuda::Gpu, when the nvcc build bt_cuda_kernels is linked in:
// BT_HAVE_CUDA_KERNELS). GEMM and convolution: cuBLAS/cuDNN on cuda, our gemm.cu and conv2d.cu
// on simt (engine/device.h). An op without a kernel for a device throws, naming both; there is
// no CPU fallback.
#include <memory>
#include <vector>

#include "engine/autograd.h"
#include "engine/tensor.h"
#include "kernels/cuda/backend.h"

namespace bt::ops_detail {

// Whether the nvcc build of kernels/cuda (bt_cuda_kernels) is linked in.
#if defined(BT_HAVE_CUDA_KERNELS)
inline constexpr bool kHaveCudaKernels = true;
#else
inline constexpr bool kHaveCudaKernels = false;
#endif

// Throws "no CUDA device" for a cuda tensor in a build without bt_cuda_kernels.
[[noreturn]] void no_cuda_backend();

// Calls f with a value of the C++ type of `dtype` (float{} or double{}); callers write
// [&](auto tag) { using T = decltype(tag); ... }.
template <class F>
decltype(auto) dispatch_dtype(DType dtype, F&& f) {
  if (dtype == DType::f32) return f(float{});
  return f(double{});
}

// Calls f with the kernels/cuda backend tag of `device` (simt or cuda): cuda::Simt{} or
// cuda::Gpu{}; callers write [&](auto backend) { using B = decltype(backend); ... }. Without
// bt_cuda_kernels the Gpu branch is not instantiated and a cuda device throws.
template <class F>
decltype(auto) dispatch_cuda_backend(Device device, F&& f) {
  if (device == Device::simt) return f(cuda::Simt{});
  if constexpr (kHaveCudaKernels) return f(cuda::Gpu{});
  else no_cuda_backend();
}

// All defined inputs share one device and one dtype; returns the device. On simt and cuda the
// dtype must be float32 (the CUDA kernels are float32) unless f64_ok (the op has a float64
// kernel too). For ops with kernels/cuda kernels.
Device check_device_args(const char* op, const std::vector<Tensor>& xs, bool f64_ok = false);

// Throws "op X has no kernel for device D".
[[noreturn]] void no_kernel(const char* op, Device device);

// dst = src over `shape` with element strides on each side (a stride of 0 broadcasts), float32,
// both buffers on `device`: cpu::strided_copy on the cpu, the strided_copy kernel of
// kernels/cuda on simt and cuda (so no host loop touches device memory).
void device_strided_copy(Device device, int ndim, const int64_t* shape, const float* src,
                         const int64_t* src_strides, float* dst, const int64_t* dst_strides);

// Raw memory of `bytes` on `device` from its caching allocator, given back with the last handle
// (the engine has no int32 dtype: max-pool indices live in such a buffer).
std::shared_ptr<void> device_buffer(size_t bytes, Device device);

// Whether an op writing `out` (a float32 cpu tensor in nChw16c, the blocked activations the
// bf16 convolutions read) writes its bf16 rounding beside it: under --precision bf16
// (engine/precision.h, engine/tensor.h's Storage::bf16_rounding).
bool writes_bf16_rounding(const Tensor& out);

// A shape check with a message naming the op and what was expected.
void check_dims(const char* op, const Tensor& x, int64_t ndim, const char* what);

}  // namespace bt::ops_detail
