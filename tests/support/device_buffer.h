#pragma once
// A float buffer in CUDA device memory for the GPU tests, filled from the host and freed at
// scope exit; allocation and copies go through kernels/cuda/device_runtime.h (checked, thrown
// as simt::Error). Only for builds with the CUDA backend.
#include <vector>

#include "kernels/cuda/device_runtime.h"

namespace bt::testing {

struct DeviceBuffer {
  float* p = nullptr;
  size_t n;
  explicit DeviceBuffer(const std::vector<float>& host) : n(host.size()) {
    p = static_cast<float*>(cuda::device_alloc(n * sizeof(float)));
    cuda::device_memcpy(p, true, host.data(), false, n * sizeof(float));
  }
  explicit DeviceBuffer(size_t count) : DeviceBuffer(std::vector<float>(count)) {}  // zeros
  ~DeviceBuffer() { cuda::device_free(p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  std::vector<float> host() const {
    std::vector<float> v(n);
    cuda::device_memcpy(v.data(), false, p, true, n * sizeof(float));
    return v;
  }
};

}  // namespace bt::testing
