// engine/strided_copy.h: cpu::strided_copy on the cpu, the kernels/cuda strided copy on simt/cuda.
#include "engine/strided_copy.h"

#include "engine/ops/dispatch.h"
#include "kernels/cpu/elementwise.h"

namespace bt {

void strided_copy_into(const Tensor& src, const Tensor& dst, int64_t dst_offset, const Shape& dst_strides) {
  const Shape shape = src.shape();
  const Shape src_strides = src.strides();
  const int ndim = int(shape.size());
  if (src.device() == Device::cpu) {
    ops_detail::dispatch_dtype(src.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::strided_copy<T, T>(ndim, shape.data(), src.data<T>(), src_strides.data(), dst.data<T>() + dst_offset,
                              dst_strides.data());
    });
  } else {
    ops_detail::device_strided_copy(src.device(), ndim, shape.data(), src.data<float>(), src_strides.data(),
                                    dst.data<float>() + dst_offset, dst_strides.data());
  }
}

}  // namespace bt
