#pragma once
// The three fused SSL losses of docs/design.md §5 on the device, float32, forward + backward:
// barlow_twins.cu, nt_xent.cu, byol.cu. The math, the shapes and the gradient formulas are those
// of the CPU kernels (kernels/cpu/ssl_loss_kernels.h, whose `*_ref` in double are the tests' oracle);
// these launchers mirror their signatures, plus a device workspace and a stream (backend.h).
//
// Pointers are device memory (host memory for Simt); buffers are contiguous row-major; outputs
// are overwritten (=), gradients scaled by the upstream scalar g. The loss comes back to the
// host as the return value: the kernels reduce it on the device in a fixed order (per-block
// partials, then one block summing them in double, so results do not depend on scheduling), and
// under nvcc the launcher copies the sums back (cudaMemcpyAsync) and synchronizes the stream.
// A workspace is caller-allocated device memory of the documented size in floats, aligned to
// 8 bytes (cudaMalloc and std::vector<float> are); its contents on return are unspecified.
// Errors: std::invalid_argument for bad sizes or a null workspace; simt::Error for CUDA errors.
#include <algorithm>
#include <cstdint>

#include "kernels/cuda/backend.h"

namespace bt::cuda {

// ---------------------------------------------------------------------------------------------
// Barlow Twins: z1, z2 (N, D); ẑ = (z − mean)/sqrt(var + 1e-5) per column (biased var);
// C = ẑ1ᵀ ẑ2 / N (D, D); loss = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij².
// Kernels (barlow_twins.cu):
//   1. column stats of both views (mean, invstd);
//   2. C by a 64×64-tiled GEMM whose prologue normalizes z while loading its tiles (ẑ is never
//      stored); the epilogue forms each tile's loss partial sums Σ(1 − C_ii)², Σ_{i≠j} C_ij² and
//      writes G = g ∂L/∂C (2g(C_ii − 1) on the diagonal, 2gλ C_ij off it) — C is never stored;
//   3. dẑ1 = ẑ2 Gᵀ / N into dz1, dẑ2 = ẑ1 G / N into dz2 (tiled GEMMs, BN in the prologue);
//   4. BN backward per column, in place: dz = invstd/N · (N dẑ − Σ_n dẑ − ẑ Σ_n dẑ ẑ).
// dz1, dz2 (N, D) (=) g ∂L/∂z1, g ∂L/∂z2; both required. Returns the loss (unscaled by g).

// The column statistics pivot on each column's first value z[0, c]: ẑ = ((z − pivot) − shift)
// ·invstd, shift = mean − pivot, both sums over the shifted data, so that no float term has the
// size of the mean (embeddings with |mean| ≫ std keep float accuracy: tests/test_cuda_ssl_numerics.cpp).
// Workspace in floats: the two sums (2 doubles) | pivot, shift, invstd of both views (6, D) |
// two partial sums per 64×64 tile of C (2, T), T = ceil(D/64)² | G (D, D) — the only D×D
// buffer. No N×D scratch: dẑ lives in dz1, dz2 until the BN backward rewrites them in place.
inline int64_t barlow_twins_workspace_size(int64_t /*N*/, int64_t D) {
  const int64_t tiles = (D + 63) / 64;
  return 4 + 6 * D + 2 * tiles * tiles + D * D;
}

template <class B>
float barlow_twins_loss(int64_t N, int64_t D, const float* z1, const float* z2, float lambda,
                        float g, float* dz1, float* dz2, float* workspace, void* stream);

// The masked reduction of the loss on its own: one pass over a given C (D, D).
struct BarlowTwinsSums {
  double on;   // Σ_i (1 − C_ii)²
  double off;  // Σ_{i≠j} C_ij²       (loss = on + λ·off)
};
// Workspace in floats: the two sums (2 doubles) | two partial sums per block (≤ 1024 blocks).
inline int64_t barlow_twins_mask_workspace_size(int64_t /*D*/) { return 4 + 2 * 1024; }

template <class B>
BarlowTwinsSums barlow_twins_mask_sums(int64_t D, const float* C, float* workspace, void* stream);

// ---------------------------------------------------------------------------------------------
// NT-Xent (SimCLR): z (2N, D) L2-normalized rows, pos(i) = i ± N; s_ij = z_i·z_j/τ (j ≠ i);
// loss = (1/2N) Σ_i (lse_i − s_i,pos(i)), lse_i = log Σ_{j≠i} exp(s_ij).
// Kernels (nt_xent.cu): a block owns 64 rows and a range of 64-column tiles; each similarity
// tile comes from shared-memory tiles of z and feeds an online softmax (running max m and sum l,
// l rescaled by exp(m_old − m_new)); the 2N×2N matrix is never stored. When the rows alone give
// too few blocks, the columns are split over up to 4 blocks whose (m, l) are merged after.
// Backward recomputes the tiles: ∂L/∂z_k = g/(2Nτ)·[Σ_j (p_kj + p_jk) z_j − 2 z_pos(k)],
// p_kj = exp(s_kj − lse_k), p_jk = exp(s_kj − lse_j) (s is symmetric).
// As on the CPU (kernels/cpu/ssl_loss_kernels.h), the positive pair is split off and 1 − p_pos taken
// in the log domain: the softmax runs over the negatives, ℓ_i = softplus(lse_neg,i − s_i,pos),
// lse_i = s_i,pos + ℓ_i, and the backward uses q_i = 1 − p_i,pos = −expm1(−ℓ_i) (computed by the
// forward) for the positive's term:
//   ∂L/∂z_k = g/(2Nτ)·[Σ_{j ∉ {k, pos(k)}} (p_kj + p_jk) z_j − (q_k + q_pos(k)) z_pos(k)].

inline constexpr int kNtXentMaxSplits = 4;
// What the forward keeps for the backward, in floats: (2, 2N), each row's lse_i, then q_i.
inline int64_t nt_xent_saved_size(int64_t N) { return 4 * N; }
// Workspace in floats, for either pass: the loss sum (1 double) | forward: (m, l) per row and
// column split (2, splits, 2N), then one loss partial per 256 rows; backward, when the columns
// are split: one partial dz per split (splits, 2N, D).
inline int64_t nt_xent_workspace_size(int64_t N, int64_t D) {
  return 4 + kNtXentMaxSplits * 2 * N * std::max<int64_t>(D, 4);
}

// saved (nt_xent_saved_size(N)) (=): lse, q, kept for the backward. Returns the loss.
template <class B>
float nt_xent_forward(int64_t N, int64_t D, const float* z, float tau, float* saved,
                      float* workspace, void* stream);
// z (2N, D); saved from nt_xent_forward -> dz (2N, D) (=) g ∂L/∂z.
template <class B>
void nt_xent_backward(int64_t N, int64_t D, const float* z, float tau, const float* saved, float g,
                      float* dz, float* workspace, void* stream);

// ---------------------------------------------------------------------------------------------
// BYOL / SimSiam: p, t (N, D), t constant; p̂ = p / max(||p||, 1e-12), t̂ likewise;
// loss = (1/N) Σ_i (2 − 2 p̂_i·t̂_i); dp (N, D) (=) g ∂L/∂p, or nullptr (loss only):
//   dp_i = −(2g/N) (t̂_i − p̂_i (p̂_i·t̂_i)) / ||p_i||, or −(2g/N) t̂_i / eps when ||p_i|| ≤ eps.
// Kernel (byol.cu): a warp per row, shuffle-reduced dot products, one pass.

// Workspace in floats: the loss sum (1 double) | one partial sum per block (≤ 1024 blocks).
inline int64_t byol_workspace_size(int64_t /*N*/, int64_t /*D*/) { return 4 + 1024; }

template <class B>
float byol_loss(int64_t N, int64_t D, const float* p, const float* t, float g, float* dp,
                float* workspace, void* stream);

}  // namespace bt::cuda
