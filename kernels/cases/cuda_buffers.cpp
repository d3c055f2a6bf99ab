#include "kernels/cases/cuda_buffers.h"

#include "kernels/simt/simt_memory.h"

#if defined(BT_HAVE_CUDA_KERNELS)
#include "kernels/cuda/device_runtime.h"
#endif

namespace bt::cases {

bool is_simt_version(const std::string& version) { return version.starts_with("simt"); }
bool is_cuda_version(const std::string& version) { return version.starts_with("cuda"); }

bool cuda_device_available() {
#if defined(BT_HAVE_CUDA_KERNELS)
  return cuda::device_available();
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
  if (is_simt_version(version)) return "CUDA kernel on the SIMT emulator: CPU time incl. copies, not GPU time";
#if defined(BT_HAVE_CUDA_KERNELS)
  if (is_cuda_version(version)) return "CUDA kernel on " + cuda::device_name() + ": time includes host<->device copies";
#endif
  return "";
}

KernelCase fast_and_cuda_case(const std::string& family, const std::string& name, bool emulator) {
  KernelCase c;
  c.family = family;
  c.name = name;
  c.versions = {"fast"};
  for (const std::string& v : cuda_versions(emulator)) c.versions.push_back(v);
  c.preferred = "fast";
  c.describe = describe_version;
  return c;
}

KernelPointers host_pointers(CaseData& d) {
  KernelPointers p;
  for (Buffer& b : d.inputs) p.add_input(b.raw(), b.dtype());
  for (Buffer& b : d.outputs) p.add_output(b.raw(), b.dtype());
  return p;
}

namespace {

void* device_alloc(CaseDevice device, size_t bytes) {
  if (device == CaseDevice::simt) return simt::device_malloc(bytes);
#if defined(BT_HAVE_CUDA_KERNELS)
  return cuda::device_alloc(bytes);
#else
  throw std::logic_error("kernel case: no cuda device in this build");
#endif
}

void copy(CaseDevice device, void* dst, bool dst_on_device, const void* src, size_t bytes) {
  if (device == CaseDevice::simt) {
    simt::memcpy(dst, src, bytes, dst_on_device ? simt::CopyKind::host_to_device : simt::CopyKind::device_to_host);
    return;
  }
#if defined(BT_HAVE_CUDA_KERNELS)
  cuda::device_memcpy(dst, dst_on_device, src, !dst_on_device, bytes);
#endif
}

}  // namespace

void DeviceCopy::Free::operator()(void* p) const {
  if (device == CaseDevice::simt) {
    simt::device_free(p);
    return;
  }
#if defined(BT_HAVE_CUDA_KERNELS)
  cuda::device_free(p);
#endif
}

DeviceCopy::DeviceCopy(const CaseData& d, CaseDevice device) : device_(device) {
  auto upload = [device](const Buffer& b) {
    std::unique_ptr<void, Free> owned(device_alloc(device, b.bytes()), Free{device});
    copy(device, owned.get(), true, b.raw(), b.bytes());
    return owned;
  };
  for (const Buffer& b : d.inputs) ptrs_.add_input(in_.emplace_back(upload(b)).get(), b.dtype());
  for (const Buffer& b : d.outputs) ptrs_.add_output(out_.emplace_back(upload(b)).get(), b.dtype());
}

void DeviceCopy::finish(CaseData& d) const {
#if defined(BT_HAVE_CUDA_KERNELS)
  if (device_ == CaseDevice::cuda) cuda::device_synchronize();  // reports a failed kernel
#endif
  for (size_t i = 0; i < d.outputs.size(); ++i)
    copy(device_, d.outputs[i].raw(), false, out_[i].get(), d.outputs[i].bytes());
}

}  // namespace bt::cases
