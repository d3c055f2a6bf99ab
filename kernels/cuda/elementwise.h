#pragma once
// Elementwise kernels (elementwise.cu). Buffers are contiguous float32 (one float64) of n elements; outputs
// are overwritten (=) and may alias an input of the same shape. See backend.h for B and stream.
#include <cstdint>

#include "kernels/cuda/backend.h"

namespace bt::cuda {

// y = max(x, 0) (NaN stays NaN).
template <class B>
void relu_forward(int64_t n, const float* x, float* y, void* stream);
// dx = dy where y > 0, else 0. y is the forward output (or its input x: same mask).
template <class B>
void relu_backward(int64_t n, const float* y, const float* dy, float* dx, void* stream);
// c = a + b.
template <class B>
void add(int64_t n, const float* a, const float* b, float* c, void* stream);
// c = a * b.
template <class B>
void mul(int64_t n, const float* a, const float* b, float* c, void* stream);
// y = alpha * x.
template <class B>
void scale(int64_t n, float alpha, const float* x, float* y, void* stream);
// y = alpha * x + beta * y; beta == 0 does not read y (NaNs there are overwritten).
template <class B>
void axpby(int64_t n, float alpha, const float* x, float beta, float* y, void* stream);
// c = a / b.
template <class B>
void div(int64_t n, const float* a, const float* b, float* c, void* stream);
// y = exp(x), log(x), sqrt(x), x^p (expf, logf, sqrtf, powf: CUDA's float functions, a few
// ulp from the correctly rounded value; NaN outside the domain as on the CPU).
template <class B>
void exp_forward(int64_t n, const float* x, float* y, void* stream);
template <class B>
void log_forward(int64_t n, const float* x, float* y, void* stream);
template <class B>
void sqrt_forward(int64_t n, const float* x, float* y, void* stream);
template <class B>
void pow_scalar(int64_t n, const float* x, float p, float* y, void* stream);
// y = x + s in float64: the one float64 kernel, for counters kept on the device
// (BatchNorm's num_batches_tracked, engine/nn/batch_norm.cpp).
template <class B>
void add_scalar_f64(int64_t n, const double* x, double s, double* y, void* stream);
// y = max(a + b, 0): the residual add + ReLU closing a ResNet block. Its backward is
// relu_backward on y, which is the gradient of both a and b.
template <class B>
void add_relu(int64_t n, const float* a, const float* b, float* y, void* stream);

}  // namespace bt::cuda
