#include "engine/device.h"

#include <cstring>
#include <vector>

#include "engine/error.h"
#include "kernels/cpu/conv2d_shape.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/gemm.h"
#include "kernels/simt/simt_error.h"
#include "kernels/simt/simt_memory.h"

#if defined(BT_HAVE_CUDA_KERNELS)
#include "kernels/cuda/cublas_gemm.h"
#include "kernels/cuda/cudnn_conv.h"
#include "kernels/cuda/device_runtime.h"
#endif

namespace bt {

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::cpu;
  if (name == "simt") return Device::simt;
  if (name == "cuda") return Device::cuda;
  throw Error("unknown device '" + name + "': expected cpu, simt or cuda");
}

namespace {

#if !defined(BT_HAVE_CUDA_KERNELS)
[[noreturn]] void no_backend() { throw Error("no CUDA device: this build has no CUDA backend (configure with nvcc, BT_CUDA=ON)"); }
#endif

// Runs a kernels/cuda or vendor call, rethrowing its simt::Error as the engine's Error.
template <class F>
auto checked(F&& f) {
  try {
    return f();
  } catch (const simt::Error& e) {
    throw Error(e.what());
  }
}

}  // namespace

void require_device(Device d) {
  if (d != Device::cuda) return;
#if defined(BT_HAVE_CUDA_KERNELS)
  checked([] { cuda::require_device(); });
#else
  no_backend();
#endif
}

namespace device_calls {

void* alloc(Device d, size_t bytes) {
  if (d == Device::simt) return checked([&] { return simt::device_malloc(bytes); });
#if defined(BT_HAVE_CUDA_KERNELS)
  return checked([&] { return cuda::device_alloc(bytes); });
#else
  no_backend();
#endif
}

void free(Device d, void* ptr) {
  if (d == Device::simt) {
    checked([&] { simt::device_free(ptr); });  // throws on an overwritten guard zone
    return;
  }
#if defined(BT_HAVE_CUDA_KERNELS)
  checked([&] { cuda::device_free(ptr); });
#endif
}

void memcpy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device == Device::cpu && src_device == Device::cpu) {
    std::memcpy(dst, src, bytes);
    return;
  }
  if (dst_device != Device::cpu && src_device != Device::cpu && dst_device != src_device) {  // simt <-> cuda
    std::vector<unsigned char> staged(bytes);
    memcpy(staged.data(), Device::cpu, src, src_device, bytes);
    memcpy(dst, dst_device, staged.data(), Device::cpu, bytes);
    return;
  }
  const Device d = dst_device == Device::cpu ? src_device : dst_device;
  if (d == Device::simt) {
    const simt::CopyKind kind = dst_device == Device::cpu   ? simt::CopyKind::device_to_host
                                : src_device == Device::cpu ? simt::CopyKind::host_to_device
                                                            : simt::CopyKind::device_to_device;
    checked([&] { simt::memcpy(dst, src, bytes, kind); });
    return;
  }
#if defined(BT_HAVE_CUDA_KERNELS)
  checked([&] { cuda::device_memcpy(dst, dst_device == Device::cuda, src, src_device == Device::cuda, bytes); });
#else
  no_backend();
#endif
}

void gemm(Device d, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (d == Device::simt) {
    checked([&] { cuda::gemm_v2_tiled<cuda::Simt>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nullptr); });
    return;
  }
#if defined(BT_HAVE_CUDA_KERNELS)
  checked([&] { cuda::cublas_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); });
#else
  no_backend();
#endif
}

void conv2d_forward(Device d, const cpu::Conv2dShape& s, const float* x, const float* w, float* y) {
  if (d == Device::simt) return checked([&] { cuda::conv2d_forward<cuda::Simt>(s, x, w, y, nullptr); });
#if defined(BT_HAVE_CUDA_KERNELS)
  checked([&] { cuda::cudnn_conv2d_forward(s, x, w, y); });
#else
  no_backend();
#endif
}

void conv2d_backward_data(Device d, const cpu::Conv2dShape& s, const float* dy, const float* w, float* dx) {
  if (d == Device::simt) return checked([&] { cuda::conv2d_backward_data<cuda::Simt>(s, dy, w, dx, nullptr); });
#if defined(BT_HAVE_CUDA_KERNELS)
  checked([&] { cuda::cudnn_conv2d_backward_data(s, dy, w, dx); });
#else
  no_backend();
#endif
}

void conv2d_backward_weight(Device d, const cpu::Conv2dShape& s, const float* x, const float* dy, float* dw) {
  if (d == Device::simt) return checked([&] { cuda::conv2d_backward_weight<cuda::Simt>(s, x, dy, dw, nullptr); });
#if defined(BT_HAVE_CUDA_KERNELS)
  checked([&] { cuda::cudnn_conv2d_backward_weight(s, x, dy, dw); });
#else
  no_backend();
#endif
}

}  // namespace device_calls
}  // namespace bt
