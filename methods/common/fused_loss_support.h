#pragma once
// What the fused loss ops (methods/barlow_twins/barlow_twins_loss.cpp,
// methods/simclr/simclr_loss.cpp, methods/common/regression_loss.cpp) share around their kernel
// calls: the argument check, the device workspace and the scalar result.
#include "engine/tensor.h"

namespace bt::methods {

// a and b are two embeddings (N, D) of one shape on one device; returns that device (cpu runs
// the kernels/cpu kernels, simt/cuda the float32 kernels/cuda ones). `op` names the op in the
// error.
Device check_embeddings(const char* op, const Tensor& a, const Tensor& b);

// A float32 device workspace of `floats` elements (8-byte aligned, as the CUDA launchers need).
Tensor device_workspace(Device dev, int64_t floats);

// The 0-d tensor v of t's dtype and device: a fused op's loss value.
Tensor scalar_like(const Tensor& t, double v);

}  // namespace bt::methods
