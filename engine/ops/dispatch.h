#pragma once
// Helpers shared by the op implementations: dtype dispatch and argument checks.
#include <vector>

#include "engine/autograd.h"
#include "engine/tensor.h"

// Runs the statement list with T bound to the C++ type of `dtype`.
#define BT_DISPATCH(dtype, T, ...)               \
  do {                                           \
    if ((dtype) == ::bt::DType::f32) {           \
      using T = float;                           \
      __VA_ARGS__;                               \
    } else {                                     \
      using T = double;                          \
      __VA_ARGS__;                               \
    }                                            \
  } while (0)

namespace bt::ops_detail {

// All defined inputs share one device and one dtype, and that device has kernels for `op`.
void check_args(const char* op, const std::vector<Tensor>& xs);

// A shape check with a message naming the op and what was expected.
void check_dims(const char* op, const Tensor& x, int64_t ndim, const char* what);

}  // namespace bt::ops_detail
