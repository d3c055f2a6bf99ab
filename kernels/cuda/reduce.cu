// Sum reductions over one dimension of a row-major matrix.
//  sum_dim1: short rows (cols <= 256) -> one warp per row, a shuffle tree;
//            long rows -> one block per row, shuffles within warps, shared memory across them.
//  sum_dim0: a block owns 32 columns; its 8 warps stride down the rows (coalesced across a
//            row), and the 8 partial sums per column meet in shared memory.
#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include "kernels/cuda/reduce.h"
#include "kernels/cuda/warp_sum.cuh"

namespace bt::cuda {
namespace {

// block (32, 8): warp threadIdx.y takes rows blockIdx.x * 8 + y, + gridDim.x * 8, ...
__global__ void sum_dim1_warp_kernel(int64_t rows, int cols, const float* x, float alpha,
                                     float* out) {
  for (int64_t r = int64_t(blockIdx.x) * 8 + threadIdx.y; r < rows; r += int64_t(gridDim.x) * 8) {
    const float* row = x + r * cols;  // (cols)
    float s = 0.0f;
    for (int c = threadIdx.x; c < cols; c += 32) s += row[c];
    s = warp_sum(s);
    if (threadIdx.x == 0) out[r] = alpha * s;
  }
}

// block (256): the block takes rows blockIdx.x, + gridDim.x, ... (a block-uniform loop).
__global__ void sum_dim1_block_kernel(int64_t rows, int64_t cols, const float* x, float alpha,
                                      float* out) {
  SIMT_SHARED(float, partial, [8]);  // one per warp
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* row = x + r * cols;  // (cols)
    float s = 0.0f;
    for (int64_t c = threadIdx.x; c < cols; c += 256) s += row[c];
    s = warp_sum(s);
    if (lane == 0) partial[warp] = s;
    __syncthreads();
    if (warp == 0) {
      s = warp_sum(lane < 8 ? partial[lane] : 0.0f);
      if (lane == 0) out[r] = alpha * s;
    }
    __syncthreads();  // partial is rewritten by the next row
  }
}

// block (32, 8), grid (ceil(cols / 32)).
__global__ void sum_dim0_kernel(int64_t rows, int64_t cols, const float* x, float alpha,
                                float* out) {
  SIMT_SHARED(float, partial, [8][33]);
  const int64_t c = int64_t(blockIdx.x) * 32 + threadIdx.x;
  float s = 0.0f;
  if (c < cols)
    for (int64_t r = threadIdx.y; r < rows; r += 8) s += x[r * cols + c];
  partial[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    float t = 0.0f;
    for (int k = 0; k < 8; ++k) t += partial[k][threadIdx.x];
    out[c] = alpha * t;
  }
}

}  // namespace

template <class B>
void sum_dim1(int64_t rows, int64_t cols, const float* x, float alpha, float* out, void* stream) {
  if (rows <= 0) return;
  if (cols <= 256) {
    simt::launch(sum_dim1_warp_kernel, grid_1d(rows, 8), dim3(32, 8), 0, stream, rows, int(cols), x,
                 alpha, out);
  } else {
    simt::launch(sum_dim1_block_kernel, grid_1d(rows, 1), 256, 0, stream, rows, cols, x, alpha,
                 out);
  }
}

template <class B>
void sum_dim0(int64_t rows, int64_t cols, const float* x, float alpha, float* out, void* stream) {
  if (cols <= 0) return;
  simt::launch(sum_dim0_kernel, unsigned((cols + 31) / 32), dim3(32, 8), 0, stream, rows, cols, x,
               alpha, out);
}

template void sum_dim1<ThisBackend>(int64_t, int64_t, const float*, float, float*, void*);
template void sum_dim0<ThisBackend>(int64_t, int64_t, const float*, float, float*, void*);

}  // namespace bt::cuda
