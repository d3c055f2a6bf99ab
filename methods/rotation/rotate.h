#pragma once
// Rotations of an image batch by k·90° (Gidaris et al. 2018's four transformations), counter-
// clockwise like torch.rot90(x, k, dims=(2, 3)):
//   k = 0: out[i][j] = x[i][j]            k = 1: out[i][j] = x[j][W−1−i]
//   k = 2: out[i][j] = x[H−1−i][W−1−j]    k = 3: out[i][j] = x[H−1−j][i]
// An index permutation, done as one strided copy per k (the destination walked with negative
// strides): cpu::strided_copy on the cpu, the strided_copy kernel on simt/cuda (float32). The
// input is data: no gradient flows through these (a tensor that requires one is refused).
#include <vector>

#include "engine/tensor.h"

namespace bt::methods {

// x (N, C, H, W) rotated by k·90°, k in 0..3; odd k need H == W. A new contiguous tensor.
Tensor rotate90(const Tensor& x, int k);

// The rotation task's batch: [rot0(x); rot1(x); rot2(x); rot3(x)] (4N, C, H, W) and its labels
// (4N): image n of block k has label k.
struct RotationBatch {
  Tensor images;
  std::vector<int64_t> labels;
};
RotationBatch rotation_batch(const Tensor& x);

}  // namespace bt::methods
