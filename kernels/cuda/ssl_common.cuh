#pragma once
// Device pieces shared by the SSL loss kernels (barlow_twins.cu, nt_xent.cu, byol.cu): warp and
// block sums, the deterministic final reduction of per-block partials, the host read-back of
// its result, argument checks, and the 64×64 shared-memory tile product that the Barlow Twins
// GEMMs and the NT-Xent similarity tiles are built on. Included after simt.h; everything here
// has internal linkage (each .cu is its own translation unit, twice: nvcc and the emulator).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cuda/warp_sum.cuh"

namespace bt::cuda {
namespace {

__device__ __forceinline__ int flat_thread() {
  return int(threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z));
}

// Σ of v over the block (blockDim a multiple of 32, at most 1024 threads), in a fixed tree
// order; the result is valid in thread 0. Block-uniform control flow only (two barriers).
template <class T>
__device__ T block_sum(T v) {
  SIMT_SHARED(T, warp_part, [32]);
  const int t = flat_thread(), lane = t % 32, warp = t / 32;
  const int warps = int(blockDim.x * blockDim.y * blockDim.z) / 32;
  v = warp_sum(v);
  if (lane == 0) warp_part[warp] = v;
  __syncthreads();
  if (warp == 0) v = warp_sum(lane < warps ? warp_part[lane] : T(0));
  __syncthreads();  // warp_part is reused by the next call
  return v;
}

constexpr int kSumThreads = 256;

// out (k) (=) Σ_{i<n} parts[v·n + i] for v < k, in double: the final pass of every loss
// reduction. One block of kSumThreads threads, a fixed order, so the loss is deterministic.
__global__ void sum_partials_kernel(int n, int k, const float* parts, double* out) {
  for (int v = 0; v < k; ++v) {
    double s = 0;
    for (int i = flat_thread(); i < n; i += kSumThreads) s += double(parts[int64_t(v) * n + i]);
    s = block_sum(s);
    if (flat_thread() == 0) out[v] = s;
  }
}

// host (k) (=) the k doubles at dev, once every launch queued on the stream has finished.
void read_back(double* host, const double* dev, int k, void* stream) {
#if defined(__CUDACC__)
  const auto s = static_cast<cudaStream_t>(stream);
  simt::check_cuda(cudaMemcpyAsync(host, dev, sizeof(double) * k, cudaMemcpyDeviceToHost, s),
                   std::source_location::current());
  simt::check_cuda(cudaStreamSynchronize(s), std::source_location::current());
#else
  (void)stream;  // the emulator runs every launch to completion
  simt::memcpy(host, dev, sizeof(double) * k, simt::CopyKind::device_to_host);
#endif
}

void check_args(const char* fn, int64_t N, int64_t D, const float* workspace) {
  if (N < 1 || D < 1 || N > INT32_MAX / 2 || D > INT32_MAX)
    throw std::invalid_argument(std::string("bt::cuda::") + fn +
                                ": N must be in [1, 2^30) and D in [1, 2^31)");
  if (!workspace) throw std::invalid_argument(std::string("bt::cuda::") + fn + ": null workspace");
}

// ---- the tile product ------------------------------------------------------------------------
// Block (16, 16); thread (tx, ty) owns the 4×4 elements (ty + 16r, tx + 16c), r, c < 4, of a
// 64×64 output tile: the strided layout makes shared-memory reads conflict-free and global
// stores coalesced. K advances kBK at a time through shared tiles As (k, m) and Bs (k, n).
constexpr int kTile = 64, kBK = 16, kMicro = 4;
constexpr dim3 kTileBlock(16, 16);

// A row-major (rows, cols) matrix; element (r, c), 0 outside.
struct Dense {
  const float* x;
  int rows, cols;
  __device__ float at(int r, int c) const {
    return r < rows && c < cols ? x[int64_t(r) * cols + c] : 0.0f;
  }
};

// z (rows, cols) batch-normalized per column on load: ẑ = ((z − pivot[c]) − shift[c])·invstd[c]
// with mean = pivot + shift, pivot a value of the column (barlow_twins.cu): z − pivot is exact
// when z is near the pivot, so no rounding of the size of the mean enters ẑ. 0 outside
// (padding rows must stay 0, not −mean·invstd, or they would enter the sums over the batch).
struct BatchNormed {
  const float* z;
  const float* pivot;
  const float* shift;
  const float* invstd;
  int rows, cols;
  __device__ float at(int r, int c) const {
    return r < rows && c < cols ? ((z[int64_t(r) * cols + c] - pivot[c]) - shift[c]) * invstd[c]
                                : 0.0f;
  }
};

// acc[r][c] += Σ_{k<K} op(A)(m0 + ty + 16r, k) · op(B)(k, n0 + tx + 16c), with
// op(A)(m, k) = TA ? a.at(k, m) : a.at(m, k) and op(B)(k, n) = TB ? b.at(n, k) : b.at(k, n).
// Each thread loads 4 elements of each 16×64 tile, consecutive threads along the contiguous
// dimension in memory. Called by every thread of the block (it holds barriers).
template <bool TA, bool TB, class VA, class VB>
__device__ void tile_product(const VA& a, const VB& b, int m0, int n0, int K,
                             float (&acc)[kMicro][kMicro], float (*As)[kTile + 1],
                             float (*Bs)[kTile + 1]) {
  const int tx = threadIdx.x, ty = threadIdx.y, t = ty * 16 + tx;
  for (int k0 = 0; k0 < K; k0 += kBK) {
    for (int i = 0; i < 4; ++i) {
      if (TA) {  // stored (K, M): m contiguous
        const int m = t % kTile, k = t / kTile + 4 * i;
        As[k][m] = a.at(k0 + k, m0 + m);
      } else {  // stored (M, K): k contiguous
        const int k = t % kBK, m = t / kBK + 16 * i;
        As[k][m] = a.at(m0 + m, k0 + k);
      }
      if (!TB) {  // stored (K, N): n contiguous
        const int n = t % kTile, k = t / kTile + 4 * i;
        Bs[k][n] = b.at(k0 + k, n0 + n);
      } else {  // stored (N, K): k contiguous
        const int k = t % kBK, n = t / kBK + 16 * i;
        Bs[k][n] = b.at(n0 + n, k0 + k);
      }
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kBK; ++k) {
      float av[kMicro], bv[kMicro];
#pragma unroll
      for (int r = 0; r < kMicro; ++r) av[r] = As[k][ty + 16 * r];
#pragma unroll
      for (int c = 0; c < kMicro; ++c) bv[c] = Bs[k][tx + 16 * c];
#pragma unroll
      for (int r = 0; r < kMicro; ++r)
#pragma unroll
        for (int c = 0; c < kMicro; ++c) acc[r][c] += av[r] * bv[c];
    }
    __syncthreads();  // the next K step overwrites the tiles
  }
}

}  // namespace
}  // namespace bt::cuda
