// log-softmax and cross-entropy (softmax.h). One warp per row: block (32, 8) holds 8 rows, the
// grid strides over the rows 8 at a time; lanes stride along the row, the row max and the sum of
// exp(x − max) meet through shuffle trees (every lane holds both), then the lanes write the row.
#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include "kernels/cuda/softmax.h"
#include "kernels/cuda/warp_sum.cuh"

namespace bt::cuda {
namespace {

constexpr int kRowsPerBlock = 8;

__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, offset));
  return v;
}

// m + log Σ exp(x − m) of one row (m the row max), in every lane of the warp.
__device__ float row_logsumexp(const float* xr, int64_t cols) {
  float m = -INFINITY;
  for (int64_t j = threadIdx.x; j < cols; j += 32) m = fmaxf(m, xr[j]);
  m = warp_max(m);
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < cols; j += 32) s += expf(xr[j] - m);
  return m + logf(warp_sum(s));
}

__global__ void log_softmax_forward_kernel(int64_t rows, int64_t cols, const float* x, float* y) {
  for (int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.y; r < rows;
       r += int64_t(gridDim.x) * kRowsPerBlock) {  // uniform across the warp
    const float lse = row_logsumexp(x + r * cols, cols);
    for (int64_t j = threadIdx.x; j < cols; j += 32) y[r * cols + j] = x[r * cols + j] - lse;
  }
}

__global__ void log_softmax_backward_kernel(int64_t rows, int64_t cols, const float* y, const float* dy,
                                            float* dx) {
  for (int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.y; r < rows;
       r += int64_t(gridDim.x) * kRowsPerBlock) {
    float s = 0.0f;
    for (int64_t j = threadIdx.x; j < cols; j += 32) s += dy[r * cols + j];
    s = warp_sum(s);
    for (int64_t j = threadIdx.x; j < cols; j += 32) {
      const int64_t i = r * cols + j;
      dx[i] = dy[i] - expf(y[i]) * s;
    }
  }
}

__global__ void cross_entropy_rows_kernel(int64_t rows, int64_t cols, const float* x, const int32_t* labels,
                                          float* row_loss) {
  for (int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.y; r < rows;
       r += int64_t(gridDim.x) * kRowsPerBlock) {
    const float lse = row_logsumexp(x + r * cols, cols);
    if (threadIdx.x == 0) row_loss[r] = lse - x[r * cols + labels[r]];
  }
}

__global__ void cross_entropy_backward_kernel(int64_t rows, int64_t cols, const float* x, const int32_t* labels,
                                              const float* g, float* dx) {
  const float scale = g[0] / float(rows);
  for (int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.y; r < rows;
       r += int64_t(gridDim.x) * kRowsPerBlock) {
    const float lse = row_logsumexp(x + r * cols, cols);
    for (int64_t j = threadIdx.x; j < cols; j += 32) {
      const int64_t i = r * cols + j;
      dx[i] = scale * (expf(x[i] - lse) - (j == labels[r] ? 1.0f : 0.0f));
    }
  }
}

dim3 row_grid(int64_t rows) { return grid_1d(rows, kRowsPerBlock); }
constexpr dim3 kRowBlock(32, kRowsPerBlock);

}  // namespace

template <class B>
void log_softmax_forward(int64_t rows, int64_t cols, const float* x, float* y, void* stream) {
  if (rows <= 0 || cols <= 0) return;
  simt::launch(log_softmax_forward_kernel, row_grid(rows), kRowBlock, 0, stream, rows, cols, x, y);
}

template <class B>
void log_softmax_backward(int64_t rows, int64_t cols, const float* y, const float* dy, float* dx, void* stream) {
  if (rows <= 0 || cols <= 0) return;
  simt::launch(log_softmax_backward_kernel, row_grid(rows), kRowBlock, 0, stream, rows, cols, y, dy, dx);
}

template <class B>
void cross_entropy_rows(int64_t rows, int64_t cols, const float* logits, const int32_t* labels, float* row_loss,
                        void* stream) {
  if (rows <= 0 || cols <= 0) return;
  simt::launch(cross_entropy_rows_kernel, row_grid(rows), kRowBlock, 0, stream, rows, cols, logits, labels,
               row_loss);
}

template <class B>
void cross_entropy_backward(int64_t rows, int64_t cols, const float* logits, const int32_t* labels, const float* g,
                            float* dlogits, void* stream) {
  if (rows <= 0 || cols <= 0) return;
  simt::launch(cross_entropy_backward_kernel, row_grid(rows), kRowBlock, 0, stream, rows, cols, logits, labels, g,
               dlogits);
}

template void log_softmax_forward<ThisBackend>(int64_t, int64_t, const float*, float*, void*);
template void log_softmax_backward<ThisBackend>(int64_t, int64_t, const float*, const float*, float*, void*);
template void cross_entropy_rows<ThisBackend>(int64_t, int64_t, const float*, const int32_t*, float*, void*);
template void cross_entropy_backward<ThisBackend>(int64_t, int64_t, const float*, const int32_t*, const float*,
                                                  float*, void*);

}  // namespace bt::cuda
