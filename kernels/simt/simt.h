#pragma once
// simt.h — the one header a kernel file (kernels/cuda/*.cu) includes.
//
// Under nvcc (__CUDACC__) it is the CUDA runtime plus three portable spellings:
//   SIMT_SHARED(T, name, dims)      static shared memory:  SIMT_SHARED(float, tile, [16][17]);
//   SIMT_DYNAMIC_SHARED(T, name)    dynamic shared memory: SIMT_DYNAMIC_SHARED(float, buf);
//   simt::launch(kernel, grid, block, smem_bytes, stream, args...)
//                                   launches and checks the launch; throws simt::Error.
// Under g++ it is the SIMT emulator (docs/simt.md): the same spellings run the kernel on the CPU,
// each block on one OS thread of a pool, each CUDA thread a fiber. `<<<>>>` and `__shared__`
// are not available there: use the spellings above.
#include <cstddef>
#include <source_location>
#include <string>
#include <utility>

#include "simt_error.h"

// Each build's launch machinery and helpers live in their own inline namespace, simt::nvcc_build
// or simt::emu_build (and bt::cuda::nvcc_build / emu_build in kernels/cuda/backend.h): both
// builds of a kernel file link into one program, so no external symbol may exist in both with
// different bodies (the ODR; docs/simt.md). Code outside the kernel files
// names them without the inline namespace (simt::launch, bt::cuda::grid_1d).
#if defined(__CUDACC__)
#define SIMT_BUILD_NS nvcc_build
#else
#define SIMT_BUILD_NS emu_build
#endif

namespace simt {
inline namespace SIMT_BUILD_NS {

// True in the emulator build (g++), false under nvcc.
#if defined(__CUDACC__)
inline constexpr bool emulated = false;
#else
inline constexpr bool emulated = true;
#endif

}  // namespace SIMT_BUILD_NS

// Whether launchers pick the emulator's smaller grids (every CUDA thread costs a fiber switch
// there; the kernels do not depend on the grid size). Always false under nvcc; in the emulator
// true unless SIMT_GRIDS=gpu or a ScopedGpuGrids is alive, which run every kernel with the
// grid sizes of the GPU build (simt_launch.h).
#if defined(__CUDACC__)
inline namespace SIMT_BUILD_NS {
inline bool small_grids() { return false; }
}  // namespace SIMT_BUILD_NS
#else
bool small_grids();
#endif

}  // namespace simt

#if defined(__CUDACC__)

#include <cuda_runtime.h>
#include <cxxabi.h>

#include <cstdlib>

#define SIMT_SHARED(T, name, dims) __shared__ T name dims
#define SIMT_DYNAMIC_SHARED(T, name)                                        \
  extern __shared__ __align__(16) unsigned char simt_dynamic_smem_##name[]; \
  T* name = reinterpret_cast<T*>(simt_dynamic_smem_##name)

namespace simt {
inline namespace SIMT_BUILD_NS {

// The demangled name of a kernel (cudaFuncGetName), for error messages.
inline std::string kernel_name(const void* kernel) {
  const char* mangled = nullptr;
  if (!kernel || cudaFuncGetName(&mangled, kernel) != cudaSuccess || !mangled) return "?";
  int status = 0;
  char* readable = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && readable ? readable : mangled;
  std::free(readable);
  return name;
}

// BT_CUDA_SYNC=1: synchronise after every launch, so an asynchronous fault is reported at the
// launch of the kernel that caused it (a debug mode: it serialises the device).
inline bool sync_each_launch() {
  static const bool on = [] {
    const char* s = std::getenv("BT_CUDA_SYNC");
    return s && *s && std::string(s) != "0";
  }();
  return on;
}

inline void check_cuda(cudaError_t e, const std::source_location& where, const void* kernel = nullptr) {
  if (e == cudaSuccess) return;
  std::string msg = (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice)
                        ? std::string("no CUDA device (") + cudaGetErrorString(e) + ")"
                        : std::string("CUDA error: ") + cudaGetErrorString(e);
  if (kernel) msg += " in kernel `" + kernel_name(kernel) + "`";
  throw Error("simt: " + msg + " at launch from " + where.file_name() + ":" +
              std::to_string(where.line()) + " in `" + where.function_name() + "`");
}

// simt::launch(kernel, grid, block, smem, stream, args...): a class whose constructor
// launches, so the call site's source_location comes along with a variadic argument list.
template <class K, class... A>
struct launch {
  launch(K kernel, dim3 grid, dim3 block, std::size_t smem, void* stream, A&&... args,
         std::source_location where = std::source_location::current()) {
    kernel<<<grid, block, smem, static_cast<cudaStream_t>(stream)>>>(std::forward<A>(args)...);
    const void* fn = reinterpret_cast<const void*>(kernel);
    check_cuda(cudaGetLastError(), where, fn);
    if (sync_each_launch()) check_cuda(cudaDeviceSynchronize(), where, fn);
  }
};
template <class K, class... A>
launch(K, dim3, dim3, std::size_t, void*, A&&...) -> launch<K, A...>;

}  // namespace SIMT_BUILD_NS
}  // namespace simt

#else  // the emulator

#include "simt_device.h"
#include "simt_launch.h"
#include "simt_memory.h"

#endif
