// matmul and linear: the OpenBLAS GEMM on cpu (oneDNN's bf16 matmul under --precision bf16,
// engine/precision.h), cuBLAS on cuda and our gemm.cu on simt (engine/device.h); transposed
// views are passed to GEMM as transposes, so aᵀ and bᵀ in the backward pass cost no copy.
#include "engine/device.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "engine/precision.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_bf16.h"

namespace bt {

using ops_detail::check_device_args;
using ops_detail::check_dims;

namespace {

// A 2-D operand as GEMM sees it: the buffer, whether it is stored transposed, its row stride.
struct GemmOperand {
  Tensor storage;  // keeps the buffer alive
  bool trans;
  int64_t ld;
};

GemmOperand as_gemm_operand(const Tensor& x) {
  const Shape& st = x.strides();
  const int64_t rows = x.size(0), cols = x.size(1);
  if (st[1] == 1 && st[0] >= std::max<int64_t>(cols, 1)) return {x, false, st[0]};
  if (st[0] == 1 && st[1] >= std::max<int64_t>(rows, 1)) return {x, true, st[1]};
  Tensor c = x.contiguous().detach();
  return {c, false, std::max<int64_t>(cols, 1)};
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  const Device dev = check_device_args("matmul", {a, b});
  check_dims("matmul", a, 2, "a matrix");
  check_dims("matmul", b, 2, "a matrix");
  BT_CHECK(a.size(1) == b.size(0), "matmul: shapes ", shape_str(a.shape()), " and ",
           shape_str(b.shape()), " cannot be multiplied");
  const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  const Precision precision = compute_precision();
  Tensor out = Tensor::empty({M, N}, a.dtype(), a.device());
  const GemmOperand A = as_gemm_operand(a), B = as_gemm_operand(b);
  if (K == 0) out.fill_(0);
  else if (dev != Device::cpu)
    device_calls::gemm(dev, A.trans, B.trans, M, N, K, 1.0f, A.storage.data<float>(), A.ld, B.storage.data<float>(), B.ld,
                      0.0f, out.data<float>(), std::max<int64_t>(N, 1));
  else if (a.dtype() == DType::f32 && precision == Precision::bf16 && M > 0 && N > 0)
    cpu::gemm_bf16(A.trans, B.trans, M, N, K, A.storage.data<float>(), A.ld, B.storage.data<float>(), B.ld,
                   out.data<float>(), std::max<int64_t>(N, 1));
  else
    ops_detail::dispatch_dtype(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::gemm(A.trans, B.trans, M, N, K, T(1), A.storage.data<T>(), A.ld, B.storage.data<T>(), B.ld, T(0),
                out.data<T>(), std::max<int64_t>(N, 1));
    });
  // C = A B: dA = dC Bᵀ, dB = Aᵀ dC, in the forward's precision.
  return record(out, "matmul", {a, b}, [a, b, precision](const Tensor& g) {
    PrecisionScope scope(precision);
    return std::vector<Tensor>{wants_grad(a) ? matmul(g, b.detach().t()) : Tensor(),
                               wants_grad(b) ? matmul(a.detach().t(), g) : Tensor()};
  });
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  check_dims("linear", w, 2, "a weight (out_features, in_features)");
  BT_CHECK(x.dim() == 2 && x.size(1) == w.size(1), "linear: input ", shape_str(x.shape()),
           " does not match weight ", shape_str(w.shape()), " (expected (N, ", w.size(1), "))");
  Tensor y = matmul(x, w.t());
  if (!b.defined()) return y;
  BT_CHECK(b.dim() == 1 && b.size(0) == w.size(0), "linear: bias ", shape_str(b.shape()),
           " does not match weight ", shape_str(w.shape()));
  return add(y, b);
}

}  // namespace bt
