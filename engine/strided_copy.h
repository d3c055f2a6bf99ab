#pragma once
// A copy of a tensor's elements into another tensor's storage at chosen element strides, on
// the tensors' device: the scatter behind layout transforms built outside the engine
// (methods/rotation/rotate.cpp). Not an autograd op.
#include "engine/tensor.h"

namespace bt {

// dst's storage from element dst_offset on, at dst_strides (one per dimension of src; may be
// negative) = src, elementwise over src's shape. src and dst share a dtype and device; on simt
// and cuda the dtype is float32.
void strided_copy_into(const Tensor& src, const Tensor& dst, int64_t dst_offset, const Shape& dst_strides);

}  // namespace bt
