// Strided copy: one grid-stride loop over the elements of the shape; each thread turns its
// linear index into coordinates (last dimension fastest) and those into both offsets.
#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include <stdexcept>
#include <string>

#include "kernels/cuda/copy.h"

namespace bt::cuda {
namespace {

constexpr int kBlock = 256;

__global__ void strided_copy_kernel(StridedLayout l, int64_t n, const float* src, float* dst) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t rest = i, s = 0, d = 0;
    for (int k = l.ndim - 1; k >= 0; --k) {
      const int64_t c = rest % l.shape[k];
      rest /= l.shape[k];
      s += c * l.src_strides[k];
      d += c * l.dst_strides[k];
    }
    dst[d] = src[s];
  }
}

}  // namespace

template <class B>
void strided_copy(const StridedLayout& layout, const float* src, float* dst, void* stream) {
  if (layout.ndim < 0 || layout.ndim > kMaxCopyDims)
    throw std::invalid_argument("strided_copy: " + std::to_string(layout.ndim) + " dimensions (at most " +
                                std::to_string(kMaxCopyDims) + ")");
  int64_t n = 1;
  for (int k = 0; k < layout.ndim; ++k) {
    if (layout.shape[k] < 0) throw std::invalid_argument("strided_copy: negative size");
    n *= layout.shape[k];
  }
  if (n == 0) return;
  simt::launch(strided_copy_kernel, grid_1d(n, kBlock), kBlock, 0, stream, layout, n, src, dst);
}

template void strided_copy<ThisBackend>(const StridedLayout&, const float*, float*, void*);

}  // namespace bt::cuda
