#include "kernels/cases/cuda_buffers.h"

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
  if (is_simt_version(version)) return "CUDA kernel on the SIMT emulator: CPU time, not GPU time";
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

#if defined(BT_HAVE_CUDA_KERNELS)
void DeviceCopy::Free::operator()(void* p) const { cuda::device_free(p); }

DeviceCopy::DeviceCopy(const CaseData& d) {
  auto upload = [](const Buffer& b) {
    std::unique_ptr<void, Free> owned(cuda::device_alloc(b.bytes()));
    cuda::device_memcpy(owned.get(), true, b.raw(), false, b.bytes());
    return owned;
  };
  for (const Buffer& b : d.inputs) ptrs_.add_input(in_.emplace_back(upload(b)).get(), b.dtype());
  for (const Buffer& b : d.outputs) ptrs_.add_output(out_.emplace_back(upload(b)).get(), b.dtype());
}

void DeviceCopy::finish(CaseData& d) const {
  cuda::device_synchronize();  // reports a failed kernel
  for (size_t i = 0; i < d.outputs.size(); ++i)
    cuda::device_memcpy(d.outputs[i].raw(), false, out_[i].get(), true, d.outputs[i].bytes());
}
#endif

}  // namespace bt::cases
