#include "engine/device.h"

#include "engine/error.h"

#if defined(BT_HAVE_CUDA_KERNELS)
#include "kernels/cuda/cublas_gemm.h"
#include "kernels/cuda/cudnn_conv.h"
#include "kernels/cuda/device_runtime.h"
#include "kernels/simt/simt_error.h"
#endif

namespace bt {

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::cpu;
  if (name == "simt") return Device::simt;
  if (name == "cuda") return Device::cuda;
  throw Error("unknown device '" + name + "': expected cpu, simt or cuda");
}

#if defined(BT_HAVE_CUDA_KERNELS)

void require_device(Device d) {
  if (d != Device::cuda) return;
  try {
    cuda::require_device();
  } catch (const simt::Error& e) {
    throw Error(e.what());
  }
}

namespace cuda_device {

void* alloc(size_t bytes) { return cuda::device_alloc(bytes); }
void free(void* ptr) noexcept { cuda::device_free(ptr); }
void memcpy(void* dst, bool dst_on_device, const void* src, bool src_on_device, size_t bytes) {
  cuda::device_memcpy(dst, dst_on_device, src, src_on_device, bytes);
}
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cuda::cublas_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
void conv2d_forward(const cpu::Conv2dShape& s, const float* x, const float* w, float* y) {
  cuda::cudnn_conv2d_forward(s, x, w, y);
}
void conv2d_backward_data(const cpu::Conv2dShape& s, const float* dy, const float* w, float* dx) {
  cuda::cudnn_conv2d_backward_data(s, dy, w, dx);
}
void conv2d_backward_weight(const cpu::Conv2dShape& s, const float* x, const float* dy, float* dw) {
  cuda::cudnn_conv2d_backward_weight(s, x, dy, dw);
}

}  // namespace cuda_device

#else  // no CUDA backend in this build

namespace {
[[noreturn]] void no_backend() { throw Error("no CUDA device: this build has no CUDA backend (configure with nvcc, BT_CUDA=ON)"); }
}  // namespace

void require_device(Device d) {
  if (d == Device::cuda) no_backend();
}

namespace cuda_device {

void* alloc(size_t) { no_backend(); }
void free(void*) noexcept {}
void memcpy(void*, bool, const void*, bool, size_t) { no_backend(); }
void gemm(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float, float*,
          int64_t) {
  no_backend();
}
void conv2d_forward(const cpu::Conv2dShape&, const float*, const float*, float*) { no_backend(); }
void conv2d_backward_data(const cpu::Conv2dShape&, const float*, const float*, float*) { no_backend(); }
void conv2d_backward_weight(const cpu::Conv2dShape&, const float*, const float*, float*) { no_backend(); }

}  // namespace cuda_device

#endif

}  // namespace bt
