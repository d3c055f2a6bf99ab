#pragma once
// The two builds of kernels/cuda/*.cu (docs/simt.md). Every launcher is a function template on a
// backend tag, explicitly instantiated once per build, so both builds link into one program:
//   bt::cuda::relu_forward<bt::cuda::Simt>(...)  runs on the SIMT emulator (bt_simt_kernels)
//   bt::cuda::relu_forward<bt::cuda::Gpu>(...)   runs on a CUDA device (bt_cuda_kernels)
// Launchers take raw device pointers (host pointers for Simt), sizes, and a `void* stream`
// (a cudaStream_t on Gpu; ignored by the emulator, which runs every launch to completion).
// They return after the launch; errors are thrown as simt::Error.
#include <algorithm>
#include <cstdint>

namespace bt::cuda {

struct Simt {};
struct Gpu {};

#if defined(__CUDACC__) || defined(SIMT_EMULATOR)  // inside a kernel file (after simt.h)
#if defined(__CUDACC__)
using ThisBackend = Gpu;
#else
using ThisBackend = Simt;
#endif

// Helpers of one build: in that build's inline namespace (simt.h, SIMT_BUILD_NS), so the nvcc
// and emulator versions never share a mangled name.
inline namespace SIMT_BUILD_NS {

// Blocks for a grid-stride loop over n elements. The emulator pays a fiber switch per CUDA
// thread, so it gets fewer, longer-running threads (unless simt::small_grids() is off); the
// kernels do not depend on the count.
inline unsigned grid_1d(int64_t n, int block) {
  const int64_t max_blocks = simt::small_grids() ? 64 : 1024;
  return unsigned(std::clamp<int64_t>((n + block - 1) / block, 1, max_blocks));
}

}  // namespace SIMT_BUILD_NS
#endif

}  // namespace bt::cuda
