// SGEMM kernels, row-major, C = alpha * op(A) op(B) + beta * C. See gemm.h for the versions.
#include <stdexcept>

#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include "kernels/cuda/gemm.h"

namespace bt::cuda {
namespace {

// op(A)(i, k) and op(B)(k, j) of row-major A, B.
__device__ __forceinline__ float load_op(const float* X, int64_t ld, bool trans, int64_t r,
                                         int64_t c) {
  return trans ? X[c * ld + r] : X[r * ld + c];
}

__device__ __forceinline__ void store_c(float* c, float acc, float alpha, float beta) {
  *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

// v1: block (16, 16), grid (ceil(N / 16), ceil(M / 16)); thread (x, y) computes C(row y, col x).
__global__ void gemm_v1_kernel(bool ta, bool tb, int M, int N, int K, float alpha, const float* A,
                               int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                               int64_t ldc) {
  const int row = blockIdx.y * 16 + threadIdx.y, col = blockIdx.x * 16 + threadIdx.x;
  if (row >= M || col >= N) return;
  float acc = 0.0f;
  for (int k = 0; k < K; ++k) acc += load_op(A, lda, ta, row, k) * load_op(B, ldb, tb, k, col);
  store_c(C + int64_t(row) * ldc + col, acc, alpha, beta);
}

constexpr int kTile = 32;          // the C tile is kTile x kTile; K advances kTile at a time
constexpr int kRowsPerThread = 4;  // block (32, 8): 8 * 4 = 32 rows

// v2: block (32, 8), grid (ceil(N / 32), ceil(M / 32)). Thread (x, y) owns C(row0 + y + 8i,
// col0 + x), i < 4. Each K step stages op(A)(32 rows, 32 k) and op(B)(32 k, 32 cols) in shared
// memory; global loads run along the contiguous dimension of A or B whichever transpose.
__global__ void gemm_v2_kernel(bool ta, bool tb, int M, int N, int K, float alpha, const float* A,
                               int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                               int64_t ldc) {
  SIMT_SHARED(float, As, [kTile][kTile + 1]);  // op(A) tile (row, k); +1 avoids bank conflicts
  SIMT_SHARED(float, Bs, [kTile][kTile + 1]);  // op(B) tile (k, col)
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row0 = blockIdx.y * kTile, col0 = blockIdx.x * kTile;
  float acc[kRowsPerThread] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int k0 = 0; k0 < K; k0 += kTile) {
    for (int i = 0; i < kRowsPerThread; ++i) {
      const int u = ty + 8 * i;  // the strided index; tx runs along contiguous memory
      if (!ta) {                 // As[u][tx] = A(row0 + u, k0 + tx)
        const int r = row0 + u, k = k0 + tx;
        As[u][tx] = r < M && k < K ? A[int64_t(r) * lda + k] : 0.0f;
      } else {  // As[tx][u] = op(A)(row0 + tx, k0 + u) = A(k0 + u, row0 + tx)
        const int r = row0 + tx, k = k0 + u;
        As[tx][u] = r < M && k < K ? A[int64_t(k) * lda + r] : 0.0f;
      }
      if (!tb) {  // Bs[u][tx] = B(k0 + u, col0 + tx)
        const int k = k0 + u, c = col0 + tx;
        Bs[u][tx] = k < K && c < N ? B[int64_t(k) * ldb + c] : 0.0f;
      } else {  // Bs[tx][u] = op(B)(k0 + tx, col0 + u) = B(col0 + u, k0 + tx)
        const int k = k0 + tx, c = col0 + u;
        Bs[tx][u] = k < K && c < N ? B[int64_t(c) * ldb + k] : 0.0f;
      }
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kTile; ++k) {
      const float b = Bs[k][tx];
#pragma unroll
      for (int i = 0; i < kRowsPerThread; ++i) acc[i] += As[ty + 8 * i][k] * b;
    }
    __syncthreads();  // the next K step overwrites the tiles
  }
  const int col = col0 + tx;
  for (int i = 0; i < kRowsPerThread; ++i) {
    const int row = row0 + ty + 8 * i;
    if (row < M && col < N) store_c(C + int64_t(row) * ldc + col, acc[i], alpha, beta);
  }
}

void check_sizes(int64_t M, int64_t N, int64_t K) {
  if (M < 0 || N < 0 || K < 0 || M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
    throw std::invalid_argument("bt::cuda::gemm: sizes must be in [0, 2^31)");
}

}  // namespace

template <class Backend>
void gemm_v1_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* A, int64_t lda, const float* Bm, int64_t ldb, float beta, float* C,
                   int64_t ldc, void* stream) {
  check_sizes(M, N, K);
  if (M == 0 || N == 0) return;
  const dim3 grid(unsigned((N + 15) / 16), unsigned((M + 15) / 16));
  simt::launch(gemm_v1_kernel, grid, dim3(16, 16), 0, stream, trans_a, trans_b, int(M), int(N),
               int(K), alpha, A, lda, Bm, ldb, beta, C, ldc);
}

template <class Backend>
void gemm_v2_tiled(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* A, int64_t lda, const float* Bm, int64_t ldb, float beta, float* C,
                   int64_t ldc, void* stream) {
  check_sizes(M, N, K);
  if (M == 0 || N == 0) return;
  const dim3 grid(unsigned((N + kTile - 1) / kTile), unsigned((M + kTile - 1) / kTile));
  simt::launch(gemm_v2_kernel, grid, dim3(32, 8), 0, stream, trans_a, trans_b, int(M), int(N),
               int(K), alpha, A, lda, Bm, ldb, beta, C, ldc);
}

#define BT_GEMM_INSTANTIATE(fn)                                                             \
  template void fn<ThisBackend>(bool, bool, int64_t, int64_t, int64_t, float, const float*, \
                                int64_t, const float*, int64_t, float, float*, int64_t, void*);
BT_GEMM_INSTANTIATE(gemm_v1_naive)
BT_GEMM_INSTANTIATE(gemm_v2_tiled)
#undef BT_GEMM_INSTANTIATE

}  // namespace bt::cuda
