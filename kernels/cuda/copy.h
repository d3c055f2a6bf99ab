#pragma once
// Strided copy on the device (copy.cu): the data movement of the simt and cuda devices
// (Tensor::contiguous, broadcast materialisation, permutations before a reduction), so that
// no host loop ever touches device memory. See backend.h for B and stream.
#include <cstdint>

#include "kernels/cuda/backend.h"

namespace bt::cuda {

// Up to this many dimensions (the engine's tensors have at most 4; 8 leaves room).
inline constexpr int kMaxCopyDims = 8;

// The element at coordinates (i_0, ..., i_{ndim-1}) of `shape` is read at Σ i_k·src_strides[k]
// and written at Σ i_k·dst_strides[k] (strides in elements; a stride of 0 repeats an element,
// i.e. broadcasting). The destination positions must not overlap each other or the source.
struct StridedLayout {
  int ndim = 0;
  int64_t shape[kMaxCopyDims] = {};
  int64_t src_strides[kMaxCopyDims] = {};
  int64_t dst_strides[kMaxCopyDims] = {};
};

// Throws std::invalid_argument for ndim outside [0, kMaxCopyDims] or a negative size.
template <class B>
void strided_copy(const StridedLayout& layout, const float* src, float* dst, void* stream);

}  // namespace bt::cuda
