#include "kernels/cuda/device_runtime.h"

#include <mutex>

#include "kernels/cuda/cuda_check.h"

namespace bt::cuda {

void require_device() {
  // Discovery runs once; its outcome (or its error) is remembered for every later call.
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    try {
      int count = 0;
      check(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
      if (count == 0) throw simt::Error("no CUDA device (cudaGetDeviceCount found none)");
      check(cudaSetDevice(0), "cudaSetDevice(0)");
    } catch (const simt::Error& e) {
      failure = e.what();
    }
  });
  if (!failure.empty()) throw simt::Error(failure);
}

bool device_available() noexcept {
  try {
    require_device();
    return true;
  } catch (const simt::Error&) {
    return false;
  }
}

std::string device_name() {
  require_device();
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  return prop.name;
}

void* device_alloc(std::size_t bytes) {
  require_device();
  void* p = nullptr;
  check(cudaMalloc(&p, bytes), "cudaMalloc");
  return p;
}

void device_free(void* ptr) {
  if (ptr == nullptr) return;
  const cudaError_t e = cudaFree(ptr);
  if (e == cudaErrorCudartUnloading) return;  // at process exit the runtime is already gone
  check(e, "cudaFree");  // also reports an earlier asynchronous fault of a kernel
}

void device_memcpy(void* dst, bool dst_on_device, const void* src, bool src_on_device, std::size_t bytes) {
  require_device();
  const cudaMemcpyKind kind = dst_on_device ? (src_on_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                            : (src_on_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  check(cudaMemcpy(dst, src, bytes, kind), "cudaMemcpy");
}

void device_synchronize() {
  require_device();
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

}  // namespace bt::cuda
