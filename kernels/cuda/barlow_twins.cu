// Barlow Twins loss, fused forward + backward (docs/design.md §5 (a) + (b); formulas in kernels/cpu/ssl_loss_kernels.h).
//   bn_stats_kernel         pivot, shift, invstd of every column of z1, z2   (reads 2·N·D)
//   bt_forward_kernel       C tile = ẑ1ᵀ ẑ2 / N with BN in the load prologue; epilogue: the
//                           tile's loss partials and G = g ∂L/∂C               (writes D²)
//   sum_partials_kernel     Σ of the tile partials, in double                 (ssl_common.cuh)
//   bt_grad_kernel          dẑ1 = ẑ2 Gᵀ / N, dẑ2 = ẑ1 G / N (BN in the prologue again)
//   bn_backward_kernel      dz = invstd/N · (N dẑ − Σ dẑ − ẑ Σ dẑ ẑ), in place over dẑ
// and the standalone one-pass masked reduction of a given C (bt_mask_kernel).
#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include "kernels/cuda/ssl_common.cuh"
#include "kernels/cuda/ssl_loss_launchers.h"

namespace bt::cuda {
namespace {

constexpr float kBnEps = 1e-5f;  // bt::cpu::kBarlowTwinsBnEps

// block (32, 8), grid (ceil(D / 32), 2): view blockIdx.y, column c = 32·blockIdx.x + tx; the 8
// warps stride down the rows (coalesced along a row), their partials meet in shared memory.
// The sums run over the data shifted by the pivot x0 = z[0, c], one of the column's values, so
// they are of the size of the std, not of the mean (a float mean of values near ±1000 would
// err by ~ε·1000 in every ẑ), and in two passes: shift = Σ(z − x0)/N, then
// var = Σ((z − x0) − shift)²/N (no E[z²] − E[z]² cancellation either).
//   stats (6, D) (=): pivot1, shift1, invstd1, pivot2, shift2, invstd2 (mean = pivot + shift,
//   invstd = 1/sqrt(biased var + eps)).
__global__ void bn_stats_kernel(int N, int D, const float* z1, const float* z2, float* stats) {
  SIMT_SHARED(float, part, [8][33]);
  const int tx = threadIdx.x, ty = threadIdx.y, c = blockIdx.x * 32 + tx;
  const float* z = blockIdx.y == 0 ? z1 : z2;  // (N, D)
  float* pivot = stats + 3 * blockIdx.y * int64_t(D);
  float* shift = pivot + D;
  float* invstd = shift + D;
  const float x0 = c < D ? z[c] : 0.0f;
  float s = 0.0f;
  if (c < D)
    for (int n = ty; n < N; n += 8) s += z[int64_t(n) * D + c] - x0;
  part[ty][tx] = s;
  __syncthreads();
  float mu = 0.0f;  // mean − x0
  for (int k = 0; k < 8; ++k) mu += part[k][tx];
  mu /= float(N);
  __syncthreads();  // part is rewritten below
  float q = 0.0f;
  if (c < D)
    for (int n = ty; n < N; n += 8) {
      const float d = (z[int64_t(n) * D + c] - x0) - mu;
      q += d * d;
    }
  part[ty][tx] = q;
  __syncthreads();
  if (ty == 0 && c < D) {
    float var = 0.0f;
    for (int k = 0; k < 8; ++k) var += part[k][tx];
    pivot[c] = x0;
    shift[c] = mu;
    invstd[c] = 1.0f / sqrtf(var / float(N) + kBnEps);
  }
}

// block (16, 16), grid (ceil(D / 64), ceil(D / 64)): the tile C[i0 : i0 + 64, j0 : j0 + 64],
// i0 = 64·blockIdx.y, j0 = 64·blockIdx.x, with C = ẑ1ᵀ ẑ2 / N (op(A) = ẑ1ᵀ, op(B) = ẑ2, K = N).
// Epilogue, per element: C_ii -> on += (1 − C_ii)², G_ii = 2g(C_ii − 1);
//                        C_ij -> off += C_ij², G_ij = 2gλ C_ij.
//   G (D, D) (=); part (2, T) (=): the tile's [on, off] at [0, t] and [1, t], t = tile index.
__global__ void bt_forward_kernel(int N, int D, BatchNormed a, BatchNormed b, float lambda, float g,
                                  float* G, float* part) {
  SIMT_SHARED(float, As, [kBK][kTile + 1]);
  SIMT_SHARED(float, Bs, [kBK][kTile + 1]);
  const int i0 = blockIdx.y * kTile, j0 = blockIdx.x * kTile;
  float acc[kMicro][kMicro] = {};
  tile_product<true, false>(a, b, i0, j0, N, acc, As, Bs);
  const float invN = 1.0f / float(N), g_on = 2.0f * g, g_off = 2.0f * g * lambda;
  float on = 0.0f, off = 0.0f;
  for (int r = 0; r < kMicro; ++r)
    for (int c = 0; c < kMicro; ++c) {
      const int i = i0 + threadIdx.y + 16 * r, j = j0 + threadIdx.x + 16 * c;
      if (i >= D || j >= D) continue;
      const float cij = acc[r][c] * invN;
      float grad;
      if (i == j) {
        on += (1.0f - cij) * (1.0f - cij);
        grad = g_on * (cij - 1.0f);
      } else {
        off += cij * cij;
        grad = g_off * cij;
      }
      G[int64_t(i) * D + j] = grad;
    }
  on = block_sum(on);
  off = block_sum(off);
  if (flat_thread() == 0) {
    const int tiles = gridDim.x * gridDim.y, t = blockIdx.y * gridDim.x + blockIdx.x;
    part[t] = on;
    part[tiles + t] = off;
  }
}

// block (16, 16), grid (ceil(D / 64), ceil(N / 64)): out[n0 : n0 + 64, c0 : c0 + 64] (=)
// op(ẑ)·op(G) / N with K = D: TB = true gives dẑ1 = ẑ2 Gᵀ / N, TB = false dẑ2 = ẑ1 G / N.
//   out (N, D) (=): dẑ (before the BN backward).
template <bool TB>
__global__ void bt_grad_kernel(int N, int D, BatchNormed zh, Dense G, float* out) {
  SIMT_SHARED(float, As, [kBK][kTile + 1]);
  SIMT_SHARED(float, Bs, [kBK][kTile + 1]);
  const int n0 = blockIdx.y * kTile, c0 = blockIdx.x * kTile;
  float acc[kMicro][kMicro] = {};
  tile_product<false, TB>(zh, G, n0, c0, D, acc, As, Bs);
  const float invN = 1.0f / float(N);
  for (int r = 0; r < kMicro; ++r)
    for (int c = 0; c < kMicro; ++c) {
      const int n = n0 + threadIdx.y + 16 * r, j = c0 + threadIdx.x + 16 * c;
      if (n < N && j < D) out[int64_t(n) * D + j] = acc[r][c] * invN;
    }
}

// block (32, 8), grid (ceil(D / 32), 2), laid out as bn_stats_kernel. In place, per column:
//   dz (N, D) holds dẑ on entry and g ∂L/∂z on return:
//   dz = invstd/N · (N dẑ − Σ_n dẑ − ẑ Σ_n dẑ ẑ),  ẑ = ((z − pivot) − shift)·invstd recomputed
//   from z; stats (6, D) from bn_stats_kernel.
__global__ void bn_backward_kernel(int N, int D, const float* z1, const float* z2,
                                   const float* stats, float* dz1, float* dz2) {
  SIMT_SHARED(float, part, [2][8][33]);
  const int tx = threadIdx.x, ty = threadIdx.y, c = blockIdx.x * 32 + tx;
  const float* z = blockIdx.y == 0 ? z1 : z2;  // (N, D)
  float* dz = blockIdx.y == 0 ? dz1 : dz2;     // (N, D)
  const float* st = stats + 3 * blockIdx.y * int64_t(D);  // pivot, shift, invstd
  const float x0 = c < D ? st[c] : 0.0f, mu = c < D ? st[D + c] : 0.0f,
              is = c < D ? st[2 * D + c] : 0.0f;
  float s = 0.0f, sx = 0.0f;
  if (c < D)
    for (int n = ty; n < N; n += 8) {
      const int64_t k = int64_t(n) * D + c;
      s += dz[k];
      sx += dz[k] * (((z[k] - x0) - mu) * is);
    }
  part[0][ty][tx] = s;
  part[1][ty][tx] = sx;
  __syncthreads();
  s = 0.0f, sx = 0.0f;
  for (int k = 0; k < 8; ++k) {
    s += part[0][k][tx];
    sx += part[1][k][tx];
  }
  if (c < D) {
    const float scale = is / float(N);
    for (int n = ty; n < N; n += 8) {
      const int64_t k = int64_t(n) * D + c;
      dz[k] = scale * (float(N) * dz[k] - s - ((z[k] - x0) - mu) * is * sx);
    }
  }
}

// block (256), grid (blocks): rows r = blockIdx.x, + gridDim.x, ... (block-uniform), columns
// strided by the threads; one pass over C (D, D):
//   part (2, gridDim.x) (=): the block's Σ (1 − C_ii)² at [0, b] and Σ_{i≠j} C_ij² at [1, b].
__global__ void bt_mask_kernel(int D, const float* C, float* part) {
  float on = 0.0f, off = 0.0f;
  for (int i = blockIdx.x; i < D; i += gridDim.x) {
    const float* row = C + int64_t(i) * D;  // (D)
    for (int j = threadIdx.x; j < D; j += blockDim.x) {
      const float v = row[j];
      if (j == i)
        on += (1.0f - v) * (1.0f - v);
      else
        off += v * v;
    }
  }
  on = block_sum(on);
  off = block_sum(off);
  if (threadIdx.x == 0) {
    part[blockIdx.x] = on;
    part[gridDim.x + blockIdx.x] = off;
  }
}

}  // namespace

template <class B>
float barlow_twins_loss(int64_t N, int64_t D, const float* z1, const float* z2, float lambda,
                        float g, float* dz1, float* dz2, float* workspace, void* stream) {
  check_args("barlow_twins_loss", N, D, workspace);
  const int n = int(N), d = int(D), tiles_1d = (d + kTile - 1) / kTile;
  const int tiles = tiles_1d * tiles_1d;
  // The layout of barlow_twins_workspace_size.
  double* sums = reinterpret_cast<double*>(workspace);  // (2): on, off
  float* stats = workspace + 4;  // (6, D): pivot, shift, invstd of view 1, then of view 2
  float* part = stats + 6 * D;   // (2, tiles)
  float* G = part + 2 * tiles;   // (D, D)
  const float* st1 = stats;
  const float* st2 = stats + 3 * D;
  const BatchNormed zh1{z1, st1, st1 + D, st1 + 2 * D, n, d},
      zh2{z2, st2, st2 + D, st2 + 2 * D, n, d};
  const unsigned col_blocks = unsigned((d + 31) / 32);

  simt::launch(bn_stats_kernel, dim3(col_blocks, 2), dim3(32, 8), 0, stream, n, d, z1, z2, stats);
  simt::launch(bt_forward_kernel, dim3(tiles_1d, tiles_1d), kTileBlock, 0, stream, n, d, zh1, zh2,
               lambda, g, G, part);
  simt::launch(sum_partials_kernel, 1, kSumThreads, 0, stream, tiles, 2, part, sums);
  const dim3 grad_grid(unsigned(tiles_1d), unsigned((n + kTile - 1) / kTile));
  const Dense Gm{G, d, d};
  simt::launch(bt_grad_kernel<true>, grad_grid, kTileBlock, 0, stream, n, d, zh2, Gm, dz1);
  simt::launch(bt_grad_kernel<false>, grad_grid, kTileBlock, 0, stream, n, d, zh1, Gm, dz2);
  simt::launch(bn_backward_kernel, dim3(col_blocks, 2), dim3(32, 8), 0, stream, n, d, z1, z2, stats,
               dz1, dz2);
  double host[2];
  read_back(host, sums, 2, stream);
  return float(host[0] + double(lambda) * host[1]);
}

template <class B>
BarlowTwinsSums barlow_twins_mask_sums(int64_t D, const float* C, float* workspace, void* stream) {
  check_args("barlow_twins_mask_sums", 1, D, workspace);
  const int blocks = int(std::min<int64_t>(D, simt::small_grids() ? 64 : 1024));
  double* sums = reinterpret_cast<double*>(workspace);  // (2): on, off
  float* part = workspace + 4;                          // (2, blocks)
  simt::launch(bt_mask_kernel, blocks, 256, 0, stream, int(D), C, part);
  simt::launch(sum_partials_kernel, 1, kSumThreads, 0, stream, blocks, 2, part, sums);
  double host[2];
  read_back(host, sums, 2, stream);
  return {host[0], host[1]};
}

template float barlow_twins_loss<ThisBackend>(int64_t, int64_t, const float*, const float*, float,
                                              float, float*, float*, float*, void*);
template BarlowTwinsSums barlow_twins_mask_sums<ThisBackend>(int64_t, const float*, float*, void*);

}  // namespace bt::cuda
