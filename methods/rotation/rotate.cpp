#include "methods/rotation/rotate.h"

#include "engine/strided_copy.h"

namespace bt::methods {

namespace {

// Writes rot_k(x) into `dst` (x's shape, contiguous) from element dst_offset on. The copy
// reads x in order and scatters each element x[n][c][a][b] to where the formulas of rotate.h
// put it; the output's element (i, j) is at i·W + j:
//   k = 1: (i, j) = (W−1−b, a)       offset (W−1)·W,       strides (a: 1,  b: −W)
//   k = 2: (i, j) = (H−1−a, W−1−b)   offset (H−1)·W + W−1, strides (a: −W, b: −1)
//   k = 3: (i, j) = (b, H−1−a)       offset H−1,           strides (a: −1, b: W)
// (odd k have H = W, so the output's row length is W too).
void rotate_into(const Tensor& x, int k, const Tensor& dst, int64_t dst_offset) {
  const int64_t C = x.size(1), H = x.size(2), W = x.size(3);
  int64_t offset = 0, sa = W, sb = 1;
  switch (k) {
    case 1: offset = (W - 1) * W, sa = 1, sb = -W; break;
    case 2: offset = (H - 1) * W + (W - 1), sa = -W, sb = -1; break;
    case 3: offset = H - 1, sa = -1, sb = W; break;
    default: break;
  }
  const Shape dst_strides{C * H * W, H * W, sa, sb};
  strided_copy_into(x, dst, dst_offset + offset, dst_strides);
}

void check_images(const Tensor& x, const char* op) {
  BT_CHECK(x.dim() == 4, op, ": expected images (N, C, H, W), got ", shape_str(x.shape()));
  BT_CHECK(!x.requires_grad(), op, ": the images require a gradient, which a rotation does not carry");
  BT_CHECK(x.device() == Device::cpu || x.dtype() == DType::f32, op, ": ", dtype_name(x.dtype()), " images on ",
           device_name(x.device()), "; the device copy is float32");
}

}  // namespace

Tensor rotate90(const Tensor& x, int k) {
  check_images(x, "rotate90");
  BT_CHECK(k >= 0 && k < 4, "rotate90: k must be 0, 1, 2 or 3, got ", k);
  BT_CHECK(k % 2 == 0 || x.size(2) == x.size(3), "rotate90: a quarter turn needs square images, got ",
           shape_str(x.shape()));
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  rotate_into(x, k, out, 0);
  return out;
}

RotationBatch rotation_batch(const Tensor& x) {
  check_images(x, "rotation_batch");
  BT_CHECK(x.size(2) == x.size(3), "rotation_batch: the quarter turns need square images, got ",
           shape_str(x.shape()));
  const int64_t N = x.size(0), block = x.numel();
  RotationBatch b{Tensor::empty({4 * N, x.size(1), x.size(2), x.size(3)}, x.dtype(), x.device()), {}};
  b.labels.reserve(size_t(4 * N));
  for (int k = 0; k < 4; ++k) {
    if (N > 0) rotate_into(x, k, b.images, k * block);
    b.labels.insert(b.labels.end(), size_t(N), k);
  }
  return b;
}

}  // namespace bt::methods
