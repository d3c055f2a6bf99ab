#pragma once
// The functional API: every op is differentiable and dispatches to kernels by device.
// Binary elementwise ops broadcast like NumPy (trailing dimensions aligned, size-1 stretched).
#include <vector>

#include "engine/tensor.h"

namespace bt {

// ---- elementwise ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double s);
Tensor mul(const Tensor& a, double s);
Tensor neg(const Tensor& x);
Tensor relu(const Tensor& x);
// relu(a + b) for a and b of one shape, in one pass (a residual block's output).
Tensor add_relu(const Tensor& a, const Tensor& b);
// dst += src in place, outside autograd (gradient accumulation): one shape and dtype; on the cpu
// one pass when both are dense in one layout, else dst.copy_(add(dst, src)).
void add_into(const Tensor& dst, const Tensor& src);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor pow(const Tensor& x, double p);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, double s) { return add(a, s); }
inline Tensor operator-(const Tensor& a, double s) { return add(a, -s); }
inline Tensor operator*(const Tensor& a, double s) { return mul(a, s); }
inline Tensor operator/(const Tensor& a, double s) { return mul(a, 1.0 / s); }
inline Tensor operator+(double s, const Tensor& a) { return add(a, s); }
inline Tensor operator-(double s, const Tensor& a) { return add(neg(a), s); }
inline Tensor operator*(double s, const Tensor& a) { return mul(a, s); }
inline Tensor operator-(const Tensor& x) { return neg(x); }

// ---- reductions ----
Tensor sum(const Tensor& x);  // all elements -> shape ()
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
// Sums `x` over the dimensions that broadcasting stretched, giving `shape`.
Tensor sum_to(const Tensor& x, const Shape& shape);
Shape broadcast_shapes(const Shape& a, const Shape& b);

// ---- linear algebra ----
Tensor matmul(const Tensor& a, const Tensor& b);  // (M, K) · (K, N) -> (M, N)
// y = x wᵀ + b, x (N, in), w (out, in), b (out) or undefined.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());

// ---- shape ----
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);

// ---- neural-network ops ----
// x (N, C, H, W), w (K, C, R, S) -> (N, K, P, Q); no bias, groups = 1.
Tensor conv2d(const Tensor& x, const Tensor& w, int64_t stride = 1, int64_t padding = 0);
// x (N, C) or (N, C, H, W). training: normalises with batch statistics and, when
// running_mean/var are defined, updates them in place (momentum as in PyTorch; the running
// variance is unbiased). eval: normalises with the running statistics. gamma/beta may be
// undefined (no affine).
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum = 0.1, double eps = 1e-5);
// relu(batch_norm(...)) with the training pass fused into one kernel.
Tensor batch_norm_relu(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                       const Tensor& running_mean, const Tensor& running_var, bool training,
                       double momentum = 0.1, double eps = 1e-5);
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0);
Tensor global_avg_pool2d(const Tensor& x);  // (N, C, H, W) -> (N, C)
Tensor log_softmax(const Tensor& x);  // over the last dimension of (rows, cols)
// Mean over rows of −log softmax(logits)[label]; logits (N, classes), labels in [0, classes).
Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels);
Tensor l2_normalize(const Tensor& x, double eps = 1e-12);  // rows of (N, D)

}  // namespace bt
