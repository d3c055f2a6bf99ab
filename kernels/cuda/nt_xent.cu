// NT-Xent (SimCLR) loss, forward + backward, never forming the 2N×2N similarity matrix
// (docs/design.md §5; formulas in kernels/cpu/ssl_loss_kernels.h). M = 2N rows of z (M, D), 64-row by 64-column tiles.
//   nt_xent_forward_kernel   per (row tile, column split): similarity tiles from shared-memory
//                            tiles of z, an online softmax per row over the negatives
//                            -> (m, l) per split
//   nt_xent_merge_kernel     per row: merges the splits' (m, l) into lse_neg; s_i,pos by a dot
//                            in double; ℓ_i = softplus(lse_neg − s_i,pos), lse_i = s_i,pos + ℓ_i,
//                            q_i = 1 − p_i,pos = −expm1(−ℓ_i)
//   sum_partials_kernel      Σ ℓ_i in double                                   (ssl_common.cuh)
//   nt_xent_backward_kernel  per (row tile, column split, 128-wide chunk of D): recomputes each
//                            similarity tile, W = P + pᵀ over the negatives in shared memory,
//                            out += W · z_tile
//   nt_xent_finish_kernel    when the columns are split: dz = coef·(Σ_splits out − q z_pos)
// with q = q_i + q_pos(i) (q from the log domain keeps its digits when the views are nearly
// aligned, p_pos → 1, where 1 − p_pos by subtraction would lose them).
#include <algorithm>

#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include "kernels/cuda/ssl_common.cuh"
#include "kernels/cuda/ssl_loss_launchers.h"

namespace bt::cuda {
namespace {

constexpr int kDChunk = 128;  // backward: dz columns per block (4 × 8 per thread)
constexpr int kMergeThreads = 256;

__device__ __forceinline__ int positive(int i, int N) { return i < N ? i + N : i - N; }

// Max / sum over the 16 lanes of a half warp (threadIdx.x = 0..15 at one threadIdx.y): the 16
// threads that hold one row of a 64×64 tile. Called by all 32 lanes (converged).
__device__ __forceinline__ float row_max(float v) {
  for (int offset = 8; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}
__device__ __forceinline__ float row_sum(float v) {
  for (int offset = 8; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

// q_i + q_pos(i): the coefficient of −z_pos(i) in row i's gradient; q (M) from the forward.
__device__ __forceinline__ float q_pair(const float* q, int i, int N) {
  return q[i] + q[positive(i, N)];
}

// Column tiles [begin, end) of split `split` out of `splits` (contiguous, sizes differing by ≤ 1).
__device__ __forceinline__ int split_begin(int col_tiles, int split, int splits) {
  return int(int64_t(split) * col_tiles / splits);
}

// block (16, 16), grid (ceil(M / 64), splits): rows r0 = 64·blockIdx.x + [0, 64), the column
// tiles of split blockIdx.y. Thread (tx, ty) holds s_ij for rows ty + 16r, columns tx + 16c of
// each tile, and each of its rows' running max m and sum l = Σ exp(s − m) (replicated across
// the row's 16 lanes). s_ii, s_i,pos(i) (the softmax is over the negatives) and columns past M
// are masked.
//   part (2, splits, M) (=): m, l.
__global__ void nt_xent_forward_kernel(int N, int D, const float* z, float inv_tau, float* part) {
  SIMT_SHARED(float, As, [kBK][kTile + 1]);
  SIMT_SHARED(float, Bs, [kBK][kTile + 1]);
  const int M = 2 * N, splits = gridDim.y, split = blockIdx.y, r0 = blockIdx.x * kTile;
  const int col_tiles = (M + kTile - 1) / kTile;
  const Dense zv{z, M, D};  // (M, D)
  float m[kMicro], l[kMicro];
  for (int r = 0; r < kMicro; ++r) m[r] = -INFINITY, l[r] = 0.0f;
  const int t_end = split_begin(col_tiles, split + 1, splits);
  for (int tile = split_begin(col_tiles, split, splits); tile < t_end; ++tile) {
    const int c0 = tile * kTile;
    float acc[kMicro][kMicro] = {};
    tile_product<false, true>(zv, zv, r0, c0, D, acc, As, Bs);  // z_rows · z_colsᵀ
    for (int r = 0; r < kMicro; ++r) {
      const int i = r0 + threadIdx.y + 16 * r, pi = positive(i, N);
      float s[kMicro], mt = -INFINITY;
      for (int c = 0; c < kMicro; ++c) {
        const int j = c0 + threadIdx.x + 16 * c;
        s[c] = j < M && j != i && j != pi ? acc[r][c] * inv_tau : -INFINITY;
        mt = fmaxf(mt, s[c]);
      }
      // Online softmax: m_new = max(m, tile max); l = l·exp(m − m_new) + Σ exp(s − m_new).
      // While every s seen is −∞, m_new = −∞ and the shift is 0 so no exp(−∞ + ∞) arises.
      const float m_new = fmaxf(m[r], row_max(mt)), shift = m_new == -INFINITY ? 0.0f : m_new;
      float sum = 0.0f;
      for (int c = 0; c < kMicro; ++c) sum += expf(s[c] - shift);
      l[r] = l[r] * expf(m[r] - shift) + row_sum(sum);
      m[r] = m_new;
    }
  }
  for (int r = 0; r < kMicro; ++r) {
    const int i = r0 + threadIdx.y + 16 * r;
    if (threadIdx.x == 0 && i < M) {
      part[(int64_t(0) * splits + split) * M + i] = m[r];
      part[(int64_t(1) * splits + split) * M + i] = l[r];
    }
  }
}

// block (256), grid (ceil(M / 256)): row i = 256·blockIdx.x + threadIdx.x.
//   lse_neg = m + log Σ_s l_s exp(m_s − m), m = max_s m_s (−∞ without negatives, N = 1);
//   s_i,pos = z_i·z_pos(i)/τ accumulated in double: its float rounding (~ε·√D/τ) would shift
//   the row's ℓ and q alike, where the negatives' errors average out;
//   ℓ_i = softplus(lse_neg − s_i,pos(i)) = log(1 + exp(lse_neg − s_i,pos)), lse_i = s_i,pos + ℓ_i,
//   q_i = 1 − exp(−ℓ_i) = −expm1(−ℓ_i).
//   saved (2, M) (=): lse, q; loss_part (gridDim.x) (=): the block's Σ ℓ_i.
__global__ void nt_xent_merge_kernel(int N, int D, const float* z, float tau, int splits,
                                     const float* part, float* saved, float* loss_part) {
  const int M = 2 * N, i = blockIdx.x * kMergeThreads + threadIdx.x;
  float loss = 0.0f;
  if (i < M) {
    const float* pm = part;                        // (splits, M)
    const float* pl = part + int64_t(splits) * M;  // (splits, M)
    float m = -INFINITY;
    for (int s = 0; s < splits; ++s) m = fmaxf(m, pm[int64_t(s) * M + i]);
    float l = 0.0f;
    for (int s = 0; s < splits; ++s) {
      const float ms = pm[int64_t(s) * M + i];
      if (ms != -INFINITY) l += pl[int64_t(s) * M + i] * expf(ms - m);
    }
    const float* zi = z + int64_t(i) * D;
    const float* zp = z + int64_t(positive(i, N)) * D;
    double dot = 0;
    for (int d = 0; d < D; ++d) dot += double(zi[d]) * double(zp[d]);
    // In double too, one row per thread: lse_neg − s_pos, ℓ = softplus of it (no overflow), q.
    const double sp = dot / double(tau), x = (double(m) - sp) + log(double(l));
    const double ell = x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    saved[i] = float(sp + ell);
    saved[M + i] = float(-expm1(-ell));
    loss = float(ell);
  }
  loss = block_sum(loss);
  if (threadIdx.x == 0) loss_part[blockIdx.x] = loss;
}

// block (16, 16), grid (ceil(M / 64), splits, ceil(D / 128)): rows r0 = 64·blockIdx.x + [0, 64),
// dz columns d0 = 128·blockIdx.z + [0, 128), the column tiles j of split blockIdx.y. Per tile:
//   W_kj = p_kj + p_jk = exp(s_kj − lse_k) + exp(s_kj − lse_j)   (0 for j = k, pos(k), j ≥ M)
//   out (64, 128) += W (64, 64) · z[j tile, d chunk] (64, 128)
// Thread (tx, ty) owns out rows ty + 16r (r < 4), columns tx + 16c (c < 8). At the end:
//   one split:  dz (M, D) (=) coef·(out − q_pair(k) z_pos(k)),  coef = g / (M τ);
//   else:       part (splits, M, D) (=) out, finished by nt_xent_finish_kernel.
//   saved (2, M): lse, q from the forward.
__global__ void nt_xent_backward_kernel(int N, int D, const float* z, float inv_tau,
                                        const float* saved, float coef, float* dz, float* part) {
  SIMT_SHARED(float, As, [kBK][kTile + 1]);
  SIMT_SHARED(float, Bs, [kBK][kTile + 1]);
  SIMT_SHARED(float, Ws, [kTile][kTile + 1]);  // (64 rows k, 64 columns j)
  SIMT_SHARED(float, Zs, [kBK][kDChunk]);      // (16 rows j, 128 dims d) of z
  const int M = 2 * N, splits = gridDim.y, split = blockIdx.y;
  const int r0 = blockIdx.x * kTile, d0 = blockIdx.z * kDChunk;
  const int tx = threadIdx.x, ty = threadIdx.y, t = ty * 16 + tx;
  const int col_tiles = (M + kTile - 1) / kTile;
  const Dense zv{z, M, D};  // (M, D)
  const float *lse = saved, *q = saved + M;
  float lse_row[kMicro];
  for (int r = 0; r < kMicro; ++r) {
    const int i = r0 + ty + 16 * r;
    lse_row[r] = i < M ? lse[i] : 0.0f;
  }
  float out[kMicro][2 * kMicro] = {};
  const int t_end = split_begin(col_tiles, split + 1, splits);
  for (int tile = split_begin(col_tiles, split, splits); tile < t_end; ++tile) {
    const int c0 = tile * kTile;
    float acc[kMicro][kMicro] = {};
    tile_product<false, true>(zv, zv, r0, c0, D, acc, As, Bs);  // z_rows · z_colsᵀ
    for (int r = 0; r < kMicro; ++r)
      for (int c = 0; c < kMicro; ++c) {
        const int i = r0 + ty + 16 * r, j = c0 + tx + 16 * c;
        const float s = acc[r][c] * inv_tau;
        const int gap = i > j ? i - j : j - i;  // 0: the diagonal, N: the positive pair
        Ws[ty + 16 * r][tx + 16 * c] = i < M && j < M && gap != 0 && gap != N
                                           ? expf(s - lse_row[r]) + expf(s - lse[j])
                                           : 0.0f;
      }
    for (int j0 = 0; j0 < kTile; j0 += kBK) {
      for (int q = 0; q < 8; ++q) {  // 16 × 128 elements, 8 per thread, d contiguous
        const int dd = t % kDChunk, jj = t / kDChunk + 2 * q;
        Zs[jj][dd] = zv.at(c0 + j0 + jj, d0 + dd);
      }
      __syncthreads();  // Zs (and, on the first step, Ws) are complete
      for (int jj = 0; jj < kBK; ++jj)
        for (int r = 0; r < kMicro; ++r) {
          const float w = Ws[ty + 16 * r][j0 + jj];
          for (int c = 0; c < 2 * kMicro; ++c) out[r][c] += w * Zs[jj][tx + 16 * c];
        }
      __syncthreads();  // Zs, then Ws, are overwritten next
    }
  }
  for (int r = 0; r < kMicro; ++r) {
    const int i = r0 + ty + 16 * r;
    if (i >= M) continue;
    const float qp = splits == 1 ? q_pair(q, i, N) : 0.0f;
    for (int c = 0; c < 2 * kMicro; ++c) {
      const int d = d0 + tx + 16 * c;
      if (d >= D) continue;
      if (splits == 1)
        dz[int64_t(i) * D + d] = coef * (out[r][c] - qp * z[int64_t(positive(i, N)) * D + d]);
      else
        part[(int64_t(split) * M + i) * D + d] = out[r][c];
    }
  }
}

// Grid-stride over the M·D elements: dz (=) coef·(Σ_s part[s] − q_pair(i) z_pos(i));
// q (M): the rows' 1 − p_pos from the forward.
__global__ void nt_xent_finish_kernel(int N, int D, int splits, const float* z, const float* part,
                                      const float* q, float coef, float* dz) {
  const int64_t total = int64_t(2 * N) * D, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += stride) {
    const int i = int(e / D), d = int(e % D);
    float s = 0.0f;
    for (int k = 0; k < splits; ++k) s += part[k * total + e];
    dz[e] = coef * (s - q_pair(q, i, N) * z[int64_t(positive(i, N)) * D + d]);
  }
}

// Column splits for `row_blocks` blocks of rows: enough blocks to fill the device (two waves
// of an H100's 132 SMs; a few on the emulator, where both paths are then exercised by tests).
int column_splits(int row_blocks, int col_tiles) {
  const int target = simt::small_grids() ? 8 : 264;
  const int want = (target + row_blocks - 1) / row_blocks;
  return std::clamp(want, 1, std::min(col_tiles, kNtXentMaxSplits));
}

}  // namespace

template <class B>
float nt_xent_forward(int64_t N, int64_t D, const float* z, float tau, float* saved,
                      float* workspace, void* stream) {
  check_args("nt_xent_forward", N, D, workspace);
  const int n = int(N), d = int(D), M = 2 * n, tiles = (M + kTile - 1) / kTile;
  const int splits = column_splits(tiles, tiles);
  const int merge_blocks = (M + kMergeThreads - 1) / kMergeThreads;
  // The layout of nt_xent_workspace_size.
  double* sum = reinterpret_cast<double*>(workspace);  // (1): Σ ℓ_i
  float* part = workspace + 4;                         // (2, splits, M)
  float* loss_part = part + 2 * int64_t(splits) * M;   // (merge_blocks)
  simt::launch(nt_xent_forward_kernel, dim3(tiles, splits), kTileBlock, 0, stream, n, d, z,
               1.0f / tau, part);
  simt::launch(nt_xent_merge_kernel, merge_blocks, kMergeThreads, 0, stream, n, d, z, tau, splits,
               part, saved, loss_part);
  simt::launch(sum_partials_kernel, 1, kSumThreads, 0, stream, merge_blocks, 1, loss_part, sum);
  double total = 0;
  read_back(&total, sum, 1, stream);
  return float(total / double(M));
}

template <class B>
void nt_xent_backward(int64_t N, int64_t D, const float* z, float tau, const float* saved, float g,
                      float* dz, float* workspace, void* stream) {
  check_args("nt_xent_backward", N, D, workspace);
  const int n = int(N), d = int(D), M = 2 * n, tiles = (M + kTile - 1) / kTile;
  const int chunks = (d + kDChunk - 1) / kDChunk, splits = column_splits(tiles * chunks, tiles);
  const float coef = g / (float(M) * tau);
  float* part = workspace + 4;  // (splits, M, D), when splits > 1
  simt::launch(nt_xent_backward_kernel, dim3(tiles, splits, chunks), kTileBlock, 0, stream, n, d, z,
               1.0f / tau, saved, coef, dz, part);
  if (splits > 1)
    simt::launch(nt_xent_finish_kernel, grid_1d(int64_t(M) * d, 256), 256, 0, stream, n, d, splits,
                 z, part, saved + M, coef, dz);
}

template float nt_xent_forward<ThisBackend>(int64_t, int64_t, const float*, float, float*, float*,
                                            void*);
template void nt_xent_backward<ThisBackend>(int64_t, int64_t, const float*, float, const float*,
                                            float, float*, float*, void*);

}  // namespace bt::cuda
