#pragma once
// simt.h — the one header a kernel file (kernels/cuda/*.cu) includes.
//
// Under nvcc (__CUDACC__) it is the CUDA runtime plus three portable spellings:
//   SIMT_SHARED(T, name, dims)      static shared memory:  SIMT_SHARED(float, tile, [16][17]);
//   SIMT_DYNAMIC_SHARED(T, name)    dynamic shared memory: SIMT_DYNAMIC_SHARED(float, buf);
//   simt::launch(kernel, grid, block, smem_bytes, stream, args...)
//                                   launches and checks the launch; throws simt::Error.
// Under g++ it is the SIMT emulator (DESIGN §4): the same spellings run the kernel on the CPU,
// each block on one OS thread of a pool, each CUDA thread a fiber. `<<<>>>` and `__shared__`
// are not available there: use the spellings above.
#include <cstddef>
#include <source_location>
#include <string>
#include <utility>

#include "simt_error.h"

namespace simt {

// True in the emulator build (g++), false under nvcc: e.g. launchers pick smaller grids when
// every CUDA thread costs a fiber switch.
#if defined(__CUDACC__)
inline constexpr bool emulated = false;
#else
inline constexpr bool emulated = true;
#endif

}  // namespace simt

#if defined(__CUDACC__)

#include <cuda_runtime.h>

#define SIMT_SHARED(T, name, dims) __shared__ T name dims
#define SIMT_DYNAMIC_SHARED(T, name)                                        \
  extern __shared__ __align__(16) unsigned char simt_dynamic_smem_##name[]; \
  T* name = reinterpret_cast<T*>(simt_dynamic_smem_##name)

namespace simt {

inline void check_cuda(cudaError_t e, const std::source_location& where) {
  if (e == cudaSuccess) return;
  std::string msg = (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice)
                        ? std::string("no CUDA device (") + cudaGetErrorString(e) + ")"
                        : std::string("CUDA error: ") + cudaGetErrorString(e);
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
    check_cuda(cudaGetLastError(), where);
  }
};
template <class K, class... A>
launch(K, dim3, dim3, std::size_t, void*, A&&...) -> launch<K, A...>;

}  // namespace simt

#else  // the emulator

#include "simt_device.h"
#include "simt_launch.h"

#endif
