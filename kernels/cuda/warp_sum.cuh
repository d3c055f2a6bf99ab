#pragma once
// The warp-level sum the reduction kernels build on (batch_norm, normalize, optim, reduce and
// the SSL losses). Included after simt.h; internal linkage (each .cu is its own translation
// unit, twice: nvcc and the emulator).
namespace bt::cuda {
namespace {

constexpr unsigned kFullMask = 0xffffffffu;

// Σ v over the 32 lanes of a converged warp (a butterfly of shuffles): every lane holds the sum.
template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

}  // namespace
}  // namespace bt::cuda
