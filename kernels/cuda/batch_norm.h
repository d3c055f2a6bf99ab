#pragma once
// Batch normalization on the device (batch_norm.cu), float32, mirroring kernels/cpu/batch_norm.h
// (same arguments, same semantics; the `*_ref` there are the test oracles). Buffers are
// contiguous (N, C, HW): BatchNorm2d with HW = H*W, BatchNorm1d on (N, C) with HW = 1.
// Statistics are per channel c over the M = N*HW values x[n, c, :]:
//
//   mean = Σ x / M,  var = Σ (x − mean)² / M (biased),  invstd = 1 / sqrt(var + eps)
//   x̂ = (x − mean) · invstd,  y = γ x̂ + β
//
// gamma/beta may be nullptr (γ = 1, β = 0); dgamma/dbeta may be nullptr (not computed). Every
// output is overwritten (=). All pointers are device pointers (host pointers for Simt); see
// backend.h for B and stream.
#include <cstdint>

#include "kernels/cuda/backend.h"

namespace bt::cuda {

// Training forward: batch statistics, saved for backward, and the running statistics updated in
// place when non-null (PyTorch): running_mean = (1 − m) running_mean + m mean,
// running_var = (1 − m) running_var + m var·M/(M − 1) (unbiased; uncorrected when M = 1).
//   x (N, C, HW) -> y (N, C, HW) (=); save_mean, save_invstd (C) (=)
template <class B>
void batch_norm_forward_train(int64_t N, int64_t C, int64_t HW, const float* x,
                              const float* gamma, const float* beta, float eps, float momentum,
                              float* y, float* save_mean, float* save_invstd, float* running_mean,
                              float* running_var, void* stream);

// Training backward: dβ = Σ dy, dγ = Σ dy x̂, dx = γ invstd / M · (M dy − Σ dy − x̂ Σ(dy x̂)).
//   dy, x (N, C, HW); save_mean, save_invstd (C) from the forward
//   dx (N, C, HW) (=), dx == dy allowed; dgamma, dbeta (C) (=) or nullptr
template <class B>
void batch_norm_backward_train(int64_t N, int64_t C, int64_t HW, const float* dy, const float* x,
                               const float* gamma, const float* save_mean,
                               const float* save_invstd, float* dx, float* dgamma, float* dbeta,
                               void* stream);

// Fused training BN + ReLU: y = max(0, γ x̂ + β). Its backward masks dy with (y > 0), y being
// that forward's output, then applies the training backward above. dx == dy allowed.
template <class B>
void batch_norm_relu_forward_train(int64_t N, int64_t C, int64_t HW, const float* x,
                                   const float* gamma, const float* beta, float eps,
                                   float momentum, float* y, float* save_mean, float* save_invstd,
                                   float* running_mean, float* running_var, void* stream);
template <class B>
void batch_norm_relu_backward_train(int64_t N, int64_t C, int64_t HW, const float* dy,
                                    const float* x, const float* y, const float* gamma,
                                    const float* save_mean, const float* save_invstd, float* dx,
                                    float* dgamma, float* dbeta, void* stream);

// Eval forward: y = γ (x − running_mean) / sqrt(running_var + eps) + β.
//   x (N, C, HW) -> y (N, C, HW) (=), y == x allowed; running_mean, running_var (C)
template <class B>
void batch_norm_forward_eval(int64_t N, int64_t C, int64_t HW, const float* x, const float* gamma,
                             const float* beta, const float* running_mean,
                             const float* running_var, float eps, float* y, void* stream);

// Eval backward (the statistics are constants), invstd = 1/sqrt(running_var + eps):
//   dx = dy γ invstd (=), dx == dy allowed;  dγ = Σ dy x̂,  dβ = Σ dy (=) or nullptr.
template <class B>
void batch_norm_backward_eval(int64_t N, int64_t C, int64_t HW, const float* dy, const float* x,
                              const float* gamma, const float* running_mean,
                              const float* running_var, float eps, float* dx, float* dgamma,
                              float* dbeta, void* stream);

}  // namespace bt::cuda
