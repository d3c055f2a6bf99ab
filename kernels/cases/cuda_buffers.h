#pragma once
// The CUDA versions of a kernel case: the kernels/cuda launchers (backend.h) run on
//   "simt…"  the <Simt> build, on the SIMT emulator, over copies of the buffers in its device
//             arena: its times are the emulator's CPU time (a fiber per CUDA thread, and the
//             copies), not GPU time;
//   "cuda…"  the <Gpu> build (nvcc, bt_cuda_kernels) on a CUDA device, over device copies of the
//             buffers: every buffer is copied in, the launchers run, the device is synchronised
//             (checked) and the outputs are copied back, so its times include the copies. Listed
//             only when the build has the nvcc kernels (BT_HAVE_CUDA_KERNELS) and a device is
//             present at run time.
// A case writes its launcher calls once, as a template lambda on the backend:
//   run_cuda_version(version, d, [&]<class B>(B, const KernelPointers& p) {
//     cuda::relu_forward<B>(n, p.in<float>(0), p.out<float>(0), nullptr);
//   });
// This header does not include the CUDA runtime (whose types clash with the emulator's).
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/cases/kernel_case.h"
#include "kernels/cuda/backend.h"

namespace bt::cases {

// The buffers of one run as the pointers a launcher takes (host or device memory), in the
// order of CaseData's inputs and outputs; in<T>/out<T> check T against the buffer's dtype.
class KernelPointers {
 public:
  void add_input(void* p, DType dt) { in_.push_back({p, dt}); }
  void add_output(void* p, DType dt) { out_.push_back({p, dt}); }
  template <class T>
  T* in(size_t i) const {
    return cast<T>(in_.at(i));
  }
  template <class T>
  T* out(size_t i) const {
    return cast<T>(out_.at(i));
  }

 private:
  struct Ptr {
    void* p;
    DType dt;
  };
  template <class T>
  static T* cast(const Ptr& p) {
    constexpr DType want = std::is_same_v<T, float> ? DType::f32 : std::is_same_v<T, double> ? DType::f64 : DType::i32;
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int32_t>);
    if (p.dt != want)
      throw std::logic_error(std::string("kernel case: a ") + to_string(p.dt) + " buffer read as " + to_string(want));
    return static_cast<T*>(p.p);
  }
  std::vector<Ptr> in_, out_;
};

// True when this build has the nvcc kernels and cudaGetDeviceCount finds a device (asked once).
bool cuda_device_available();

// "simt<suffix>" (unless !emulator: shapes too large for the emulator), then "cuda<suffix>"
// when cuda_device_available().
std::vector<std::string> cuda_versions(bool emulator = true, const std::string& suffix = "");

// The note kernel_bench prints beside a version (KernelCase::describe): where a simt or cuda
// version runs and what its time includes; "" for the CPU versions.
std::string describe_version(const std::string& version);

// A case of `family` named `name` with the versions "fast" (the CPU kernel, preferred) and
// cuda_versions(emulator), labelled by describe_version.
KernelCase fast_and_cuda_case(const std::string& family, const std::string& name, bool emulator);

bool is_simt_version(const std::string& version);  // "simt…"
bool is_cuda_version(const std::string& version);  // "cuda…"

// Where a simt or cuda version's buffers live: the simt arena (kernels/simt/simt_memory.h) or
// the GPU (kernels/cuda/device_runtime.h, only in builds with the nvcc kernels).
enum class CaseDevice { simt, cuda };

// Device copies of a run's buffers (cuda_buffers.cpp): the constructor allocates and copies
// every input and output in; finish() synchronises the device and copies the outputs back.
class DeviceCopy {
 public:
  DeviceCopy(const CaseData& d, CaseDevice device);
  const KernelPointers& pointers() const { return ptrs_; }
  void finish(CaseData& d) const;

 private:
  struct Free {
    CaseDevice device;
    void operator()(void* p) const;
  };
  CaseDevice device_;
  std::vector<std::unique_ptr<void, Free>> in_, out_;
  KernelPointers ptrs_;
};

// The host buffers of d (the CPU fast path's pointers).
KernelPointers host_pointers(CaseData& d);

// run(pointers) on device copies of d's buffers, the outputs copied back after.
template <class Run>
void run_on_device(CaseData& d, CaseDevice device, Run&& run) {
  DeviceCopy copy(d, device);
  run(copy.pointers());
  copy.finish(d);
}

// Runs a simt or cuda version: launch(B{}, pointers) with B = cuda::Simt or cuda::Gpu, over
// device copies of the buffers (the simt arena's checks apply as a GPU's would).
template <class Launch>
void run_cuda_version(const std::string& version, CaseData& d, Launch&& launch) {
  if (is_simt_version(version)) {
    run_on_device(d, CaseDevice::simt, [&](const KernelPointers& p) { launch(cuda::Simt{}, p); });
    return;
  }
  if (!is_cuda_version(version)) throw std::invalid_argument("kernel case: unknown version " + version);
#if defined(BT_HAVE_CUDA_KERNELS)
  run_on_device(d, CaseDevice::cuda, [&](const KernelPointers& p) { launch(cuda::Gpu{}, p); });
#else
  throw std::logic_error("kernel case: version " + version + " needs the nvcc kernels (BT_HAVE_CUDA_KERNELS)");
#endif
}

// The API tag of the CPU fast path in a case that writes it and the CUDA launchers as one
// template on the API (the launchers take the same arguments plus a stream): batch_norm, pool.
struct CpuApi {};

// The run of such a case: reference(d) for the reference, launch(CpuApi{}, host pointers) for
// "fast", and launch(cuda::Simt or cuda::Gpu, pointers) for the simt and cuda versions.
template <class Reference, class Launch>
std::function<void(const std::string&, CaseData&)> api_template_run(Reference reference, Launch launch) {
  return [reference, launch](const std::string& version, CaseData& d) {
    if (version == kReference)
      reference(d);
    else if (version == "fast")
      launch(CpuApi{}, host_pointers(d));
    else
      run_cuda_version(version, d, launch);
  };
}

}  // namespace bt::cases
