// VICReg loss, fused forward + backward (formulas in kernels/cpu/vicreg.h, kernels in vicreg.h):
//   col_mean_kernel        column means of z1 and z2                          (reads 2·N·D)
//   vicreg_cov_kernel      C tile = z̄ᵀ z̄ / (N − 1), centring in the load prologue; epilogue:
//                          C_jj, the tile's Σ_{i≠j} C_ij², G = 4gν offdiag(C)/(D(N − 1))
//   vicreg_grad_kernel     dz = z̄ G + variance term + invariance term
//   vicreg_terms_kernel    Σ (z1 − z2)² and Σ_j max(0, γ − sqrt(C_jj + ε)) partials
//   sum_partials_kernel    the partials summed in double                      (ssl_common.cuh)
#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include "kernels/cuda/ssl_common.cuh"
#include "kernels/cuda/vicreg.h"

namespace bt::cuda {
namespace {

// z (rows, cols) centred per column on load: z̄ = z − mean[c]; 0 outside (padding rows must
// stay 0 or they would enter the sums over the batch).
struct Centered {
  const float* z;
  const float* mean;
  int rows, cols;
  __device__ float at(int r, int c) const {
    return r < rows && c < cols ? z[int64_t(r) * cols + c] - mean[c] : 0.0f;
  }
};

// block (32, 8), grid (ceil(D / 32), 2): view blockIdx.y, column c = 32·blockIdx.x + tx; the 8
// warps stride down the rows, their partials meet in shared memory.
//   mean (2, D) (=): the column means of z1, then z2.
__global__ void col_mean_kernel(int N, int D, const float* z1, const float* z2, float* mean) {
  SIMT_SHARED(float, part, [8][33]);
  const int tx = threadIdx.x, ty = threadIdx.y, c = blockIdx.x * 32 + tx;
  const float* z = blockIdx.y == 0 ? z1 : z2;  // (N, D)
  float s = 0.0f;
  if (c < D)
    for (int n = ty; n < N; n += 8) s += z[int64_t(n) * D + c];
  part[ty][tx] = s;
  __syncthreads();
  if (ty == 0 && c < D) {
    float mu = 0.0f;
    for (int k = 0; k < 8; ++k) mu += part[k][tx];
    mean[int64_t(blockIdx.y) * D + c] = mu / float(N);
  }
}

// block (16, 16), grid (ceil(D / 64), ceil(D / 64)): the tile C[i0 : i0 + 64, j0 : j0 + 64],
// i0 = 64·blockIdx.y, j0 = 64·blockIdx.x, C = z̄ᵀ z̄ / (N − 1) (op(A) = z̄ᵀ, op(B) = z̄, K = N).
//   var (D) (=): C_jj, written by the diagonal tiles; G (D, D) (=): cov_scale·C_ij, 0 on the
//   diagonal; part (T) (=): the tile's Σ_{i≠j} C_ij² at t = tile index.
__global__ void vicreg_cov_kernel(int N, int D, Centered zc, float cov_scale, float* var, float* G,
                                  float* part) {
  SIMT_SHARED(float, As, [kBK][kTile + 1]);
  SIMT_SHARED(float, Bs, [kBK][kTile + 1]);
  const int i0 = blockIdx.y * kTile, j0 = blockIdx.x * kTile;
  float acc[kMicro][kMicro] = {};
  tile_product<true, false>(zc, zc, i0, j0, N, acc, As, Bs);
  const float inv_nm1 = 1.0f / float(N - 1);
  float off = 0.0f;
  for (int r = 0; r < kMicro; ++r)
    for (int c = 0; c < kMicro; ++c) {
      const int i = i0 + threadIdx.y + 16 * r, j = j0 + threadIdx.x + 16 * c;
      if (i >= D || j >= D) continue;
      const float cij = acc[r][c] * inv_nm1;
      if (i == j) {
        var[i] = cij;
        G[int64_t(i) * D + j] = 0.0f;
      } else {
        off += cij * cij;
        G[int64_t(i) * D + j] = cov_scale * cij;
      }
    }
  off = block_sum(off);
  if (flat_thread() == 0) part[blockIdx.y * gridDim.x + blockIdx.x] = off;
}

// The per-element coefficients of the gradient's epilogue.
struct GradTerms {
  const float* var;   // (D): C_jj of this view
  const float* z1;    // (N, D)
  const float* z2;    // (N, D)
  float inv_scale;    // ±2gλ / (N·D): + for view 1, − for view 2
  float var_scale;    // −gμ / (D (N − 1))
  float gamma, eps;
};

// block (16, 16), grid (ceil(D / 64), ceil(N / 64)): dz[n0 : n0 + 64, c0 : c0 + 64] (=)
// (z̄ G)_nj + [γ > s_j] var_scale / s_j · z̄_nj + inv_scale (z1 − z2)_nj, s_j = sqrt(C_jj + ε).
__global__ void vicreg_grad_kernel(int N, int D, Centered zc, Dense G, GradTerms t, float* dz) {
  SIMT_SHARED(float, As, [kBK][kTile + 1]);
  SIMT_SHARED(float, Bs, [kBK][kTile + 1]);
  const int n0 = blockIdx.y * kTile, c0 = blockIdx.x * kTile;
  float acc[kMicro][kMicro] = {};
  tile_product<false, false>(zc, G, n0, c0, D, acc, As, Bs);
  for (int c = 0; c < kMicro; ++c) {
    const int j = c0 + threadIdx.x + 16 * c;
    if (j >= D) continue;
    const float s = sqrtf(t.var[j] + t.eps);
    const float var_coef = t.gamma > s ? t.var_scale / s : 0.0f;
    for (int r = 0; r < kMicro; ++r) {
      const int n = n0 + threadIdx.y + 16 * r;
      if (n >= N) continue;
      const int64_t k = int64_t(n) * D + j;
      dz[k] = acc[r][c] + var_coef * zc.at(n, j) + t.inv_scale * (t.z1[k] - t.z2[k]);
    }
  }
}

// block (256), grid (blocks): grid-stride loops over the N·D elements and the 2D variances.
//   part (2, gridDim.x) (=): the block's Σ (z1 − z2)² at [0, b], Σ max(0, γ − s) at [1, b].
__global__ void vicreg_terms_kernel(int64_t ND, int D2, const float* z1, const float* z2,
                                    const float* var, float gamma, float eps, float* part) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  float inv = 0.0f, hinge = 0.0f;
  for (int64_t k = first; k < ND; k += stride) {
    const float d = z1[k] - z2[k];
    inv += d * d;
  }
  for (int64_t j = first; j < D2; j += stride) hinge += fmaxf(0.0f, gamma - sqrtf(var[j] + eps));
  inv = block_sum(inv);
  hinge = block_sum(hinge);
  if (threadIdx.x == 0) {
    part[blockIdx.x] = inv;
    part[gridDim.x + blockIdx.x] = hinge;
  }
}

}  // namespace

template <class B>
cpu::VicregTerms vicreg_loss(int64_t N, int64_t D, const float* z1, const float* z2,
                             const cpu::VicregWeights& w, float g, float* dz1, float* dz2,
                             float* workspace, void* stream) {
  check_args("vicreg_loss", N, D, workspace);
  if (N < 2) throw std::invalid_argument("bt::cuda::vicreg_loss: the variances need N > 1");
  const int n = int(N), d = int(D), tiles_1d = (d + kTile - 1) / kTile;
  const int tiles = tiles_1d * tiles_1d;
  const unsigned term_blocks = grid_1d(N * D, 256);
  // The layout of vicreg_workspace_size.
  double* sums = reinterpret_cast<double*>(workspace);  // (4): Σ C² view 1, view 2, inv, hinge
  float* mean = workspace + 8;                          // (2, D)
  float* var = mean + 2 * D;                            // (2, D)
  float* cov_part = var + 2 * D;                        // (2, tiles)
  float* term_part = cov_part + 2 * tiles;              // (2, term_blocks ≤ 1024)
  float* G = term_part + 2 * kVicregMaxTermBlocks;      // (D, D)
  const float* z[2] = {z1, z2};
  float* dz[2] = {dz1, dz2};
  const float cov_scale = float(4 * w.covariance * double(g) / (double(D) * double(N - 1)));
  const float inv_scale = float(2 * w.invariance * double(g) / (double(N) * double(D)));
  const float var_scale = float(-w.variance * double(g) / (double(D) * double(N - 1)));

  simt::launch(col_mean_kernel, dim3(unsigned((d + 31) / 32), 2), dim3(32, 8), 0, stream, n, d, z1, z2,
               mean);
  const dim3 grad_grid(unsigned(tiles_1d), unsigned((n + kTile - 1) / kTile));
  for (int v = 0; v < 2; ++v) {
    const Centered zc{z[v], mean + v * D, n, d};
    simt::launch(vicreg_cov_kernel, dim3(tiles_1d, tiles_1d), kTileBlock, 0, stream, n, d, zc, cov_scale,
                 var + v * D, G, cov_part + v * tiles);
    const GradTerms t{var + v * D, z1, z2, v == 0 ? inv_scale : -inv_scale, var_scale, float(w.gamma),
                      float(w.eps)};
    simt::launch(vicreg_grad_kernel, grad_grid, kTileBlock, 0, stream, n, d, zc, Dense{G, d, d}, t, dz[v]);
  }
  simt::launch(vicreg_terms_kernel, term_blocks, 256, 0, stream, N * D, 2 * d, z1, z2, var, float(w.gamma),
               float(w.eps), term_part);
  simt::launch(sum_partials_kernel, 1, kSumThreads, 0, stream, tiles, 2, cov_part, sums);
  simt::launch(sum_partials_kernel, 1, kSumThreads, 0, stream, int(term_blocks), 2, term_part, sums + 2);
  double host[4];
  read_back(host, sums, 4, stream);
  return {host[2] / double(N * D), host[3] / double(D), (host[0] + host[1]) / double(D)};
}

template cpu::VicregTerms vicreg_loss<ThisBackend>(int64_t, int64_t, const float*, const float*,
                                                   const cpu::VicregWeights&, float, float*, float*, float*,
                                                   void*);

}  // namespace bt::cuda
