#include "kernels/cases/cuda_buffers.h"

#if defined(BT_HAVE_CUDA_KERNELS)
#include <cuda_runtime_api.h>

#include "kernels/simt/simt_error.h"
#endif

namespace bt::cases {
namespace {

#if defined(BT_HAVE_CUDA_KERNELS)
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw simt::Error(std::string("kernel case: ") + what + ": " + cudaGetErrorString(e));
}

// The name of device 0, or "" when there is none (without a driver cudaGetDeviceCount fails
// with cudaErrorInsufficientDriver).
const std::string& device_name() {
  static const std::string name = [] {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) return std::string();
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return std::string("CUDA device 0");
    return std::string(prop.name);
  }();
  return name;
}
#endif

}  // namespace

bool is_simt_version(const std::string& version) { return version.starts_with("simt"); }
bool is_cuda_version(const std::string& version) { return version.starts_with("cuda"); }

bool cuda_device_available() {
#if defined(BT_HAVE_CUDA_KERNELS)
  return !device_name().empty();
#else
  return false;
#endif
}

std::vector<std::string> cuda_versions(bool emulator, const std::string& suffix) {
  std::vector<std::string> v;
  if (emulator) v.push_back("simt" + suffix);
  if (cuda_device_available()) v.push_back("cuda" + suffix);
  return v;
}

std::string describe_version(const std::string& version) {
  if (is_simt_version(version)) return "CUDA kernel on the SIMT emulator: CPU time, not GPU time";
#if defined(BT_HAVE_CUDA_KERNELS)
  if (is_cuda_version(version)) return "CUDA kernel on " + device_name() + ": time includes host<->device copies";
#endif
  return "";
}

KernelPointers host_pointers(CaseData& d) {
  KernelPointers p;
  for (Buffer& b : d.inputs) p.add_input(b.raw(), b.dtype());
  for (Buffer& b : d.outputs) p.add_output(b.raw(), b.dtype());
  return p;
}

#if defined(BT_HAVE_CUDA_KERNELS)
void DeviceCopy::Free::operator()(void* p) const { cudaFree(p); }

DeviceCopy::DeviceCopy(const CaseData& d) {
  auto upload = [](const Buffer& b) {
    void* p = nullptr;
    check(cudaMalloc(&p, b.bytes()), "cudaMalloc");
    std::unique_ptr<void, Free> owned(p);
    check(cudaMemcpy(p, b.raw(), b.bytes(), cudaMemcpyHostToDevice), "cudaMemcpy to the device");
    return owned;
  };
  for (const Buffer& b : d.inputs) ptrs_.add_input(in_.emplace_back(upload(b)).get(), b.dtype());
  for (const Buffer& b : d.outputs) ptrs_.add_output(out_.emplace_back(upload(b)).get(), b.dtype());
}

void DeviceCopy::finish(CaseData& d) const {
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize after the kernels");
  for (size_t i = 0; i < d.outputs.size(); ++i)
    check(cudaMemcpy(d.outputs[i].raw(), out_[i].get(), d.outputs[i].bytes(), cudaMemcpyDeviceToHost),
          "cudaMemcpy from the device");
}
#endif

}  // namespace bt::cases
