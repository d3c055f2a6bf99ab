#pragma once
// The VICReg loss (kernels/cpu/vicreg.h has the math and the gradient formulas; its
// vicreg_loss_ref in double is the tests' oracle) on the device, float32, forward + backward in
// one call (vicreg.cu). Conventions as kernels/cuda/ssl_loss_launchers.h: device pointers (host
// pointers for Simt), contiguous row-major, outputs overwritten, gradients scaled by g, the
// terms reduced in a fixed order (per-block partials, then one block in double) and read back.
// Kernels, per view v (z̄ = z − mean never stored: subtracted while loading tiles):
//   1. column means of both views;
//   2. C = z̄ᵀ z̄ / (N − 1) by the 64×64-tiled GEMM of ssl_common.cuh; the epilogue keeps C_jj
//      (the variances), each tile's Σ_{i≠j} C_ij², and writes G = 4gν offdiag(C) / (D (N − 1));
//   3. dz = z̄ G (tiled GEMM), its epilogue adding the variance term −gμ[γ > s_j] z̄_nj /
//      (D (N − 1) s_j) and the invariance term ±2gλ (z1 − z2) / (N·D);
//   then the invariance and hinge partials, and the final sums.
// N > 1. Errors: std::invalid_argument for bad sizes or a null workspace; simt::Error for CUDA
// errors.
#include <cstdint>

#include "kernels/cpu/vicreg.h"
#include "kernels/cuda/backend.h"

namespace bt::cuda {

inline constexpr int kVicregMaxTermBlocks = 1024;

// Workspace in floats: four sums (4 doubles) | means and variances of both views (4, D) |
// one Σ C_ij² partial per 64×64 tile and view (2, T), T = ceil(D/64)² | the invariance and
// hinge partials (2, 1024) | G (D, D), reused by the second view — the only D×D buffer.
inline int64_t vicreg_workspace_size(int64_t /*N*/, int64_t D) {
  const int64_t tiles = (D + 63) / 64;
  return 8 + 4 * D + 2 * tiles * tiles + 2 * kVicregMaxTermBlocks + D * D;
}

template <class B>
cpu::VicregTerms vicreg_loss(int64_t N, int64_t D, const float* z1, const float* z2,
                             const cpu::VicregWeights& w, float g, float* dz1, float* dz2,
                             float* workspace, void* stream);

}  // namespace bt::cuda
