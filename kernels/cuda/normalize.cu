// Row L2 normalization (contracts in normalize.h). One warp per row: block (32, 8) holds 8 rows,
// the grid strides over the rows 8 at a time; lanes stride along the row (coalesced), the row's
// dot products meet through a shuffle tree, then the same lanes write the row. A lane reads an
// element before it writes the same index, so y == x and dx == dy are safe.
#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include "kernels/cuda/normalize.h"
#include "kernels/cuda/warp_sum.cuh"

namespace bt::cuda {
namespace {

constexpr int kRowsPerBlock = 8;

// x (N, D) -> y (N, D): y = x / max(‖x‖, eps).
__global__ void forward_kernel(int64_t N, int64_t D, const float* x, float eps, float* y) {
  for (int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.y; r < N;
       r += int64_t(gridDim.x) * kRowsPerBlock) {  // uniform across the warp
    const float* xr = x + r * D;  // (D)
    float ss = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += 32) ss += xr[j] * xr[j];
    const float denom = fmaxf(sqrtf(warp_sum(ss)), eps);
    for (int64_t j = threadIdx.x; j < D; j += 32) y[r * D + j] = xr[j] / denom;
  }
}

// x, dy (N, D) -> dx (N, D): dx = dy/n − x (x·dy)/n³ for n = ‖x‖ > eps, else dy/eps.
__global__ void backward_kernel(int64_t N, int64_t D, const float* x, const float* dy, float eps,
                                float* dx) {
  for (int64_t r = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.y; r < N;
       r += int64_t(gridDim.x) * kRowsPerBlock) {
    const float* xr = x + r * D;    // (D)
    const float* dyr = dy + r * D;  // (D)
    float ss = 0.0f, xdy = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += 32) {
      ss += xr[j] * xr[j];
      xdy += xr[j] * dyr[j];
    }
    const float n = sqrtf(warp_sum(ss));
    xdy = warp_sum(xdy);
    const float a = 1.0f / fmaxf(n, eps);               // coefficient of dy
    const float b = n > eps ? -(xdy * a) * a * a : 0.0f;  // of x: −(x·dy)/n³
    for (int64_t j = threadIdx.x; j < D; j += 32) dx[r * D + j] = a * dyr[j] + b * xr[j];
  }
}

}  // namespace

template <class B>
void l2_normalize_forward(int64_t N, int64_t D, const float* x, float eps, float* y,
                          void* stream) {
  if (N <= 0 || D <= 0) return;
  simt::launch(forward_kernel, grid_1d(N, kRowsPerBlock), dim3(32, kRowsPerBlock), 0, stream, N, D,
               x, eps, y);
}

template <class B>
void l2_normalize_backward(int64_t N, int64_t D, const float* x, const float* dy, float eps,
                           float* dx, void* stream) {
  if (N <= 0 || D <= 0) return;
  simt::launch(backward_kernel, grid_1d(N, kRowsPerBlock), dim3(32, kRowsPerBlock), 0, stream, N,
               D, x, dy, eps, dx);
}

template void l2_normalize_forward<ThisBackend>(int64_t, int64_t, const float*, float, float*,
                                                void*);
template void l2_normalize_backward<ThisBackend>(int64_t, int64_t, const float*, const float*,
                                                 float, float*, void*);

}  // namespace bt::cuda
