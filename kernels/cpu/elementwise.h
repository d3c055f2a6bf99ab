#pragma once
// Elementwise CPU kernels on raw buffers. Broadcasting is expressed with strides: a
// broadcast dimension of an input has stride 0. Outputs are contiguous and overwritten (=).
#include <cstdint>

namespace bt::cpu {

enum class BinaryOp { add, sub, mul, div };
// y = f(x); `param` is the exponent of pow, the scalar of add_scalar / mul_scalar.
enum class UnaryOp { neg, relu, exp, log, sqrt, pow, add_scalar, mul_scalar, abs };

// out (shape) = a op b, where a and b are read through their (possibly 0) strides.
template <class T>
void binary(BinaryOp op, int ndim, const int64_t* shape, const T* a, const int64_t* a_strides,
            const T* b, const int64_t* b_strides, T* out);

// y (n) = f(x (n)).
template <class T>
void unary(UnaryOp op, int64_t n, const T* x, T* y, double param = 0);

// y (n) = max(a + b, 0): a residual block's sum and ReLU in one pass. float only: where y_bf16
// is non-null, y's bf16 rounding there too (kernels/cpu/bf16.h), for the bf16 convolution that
// reads it.
template <class T>
void add_relu(int64_t n, const T* a, const T* b, T* y, uint16_t* y_bf16 = nullptr);

// dx (n) = dy where x > 0, else 0 (the subgradient 0 is taken at x = 0).
template <class T>
void relu_backward(int64_t n, const T* x, const T* dy, T* dx);

// dst (shape) = src (shape), each read/written through its own strides, converting Src to Dst.
template <class Src, class Dst>
void strided_copy(int ndim, const int64_t* shape, const Src* src, const int64_t* src_strides,
                  Dst* dst, const int64_t* dst_strides);

// y (n) += alpha * x (n).
template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y);

}  // namespace bt::cpu
