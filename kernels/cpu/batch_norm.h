#pragma once
// Batch normalization on the CPU, over a contiguous (N, C, HW) buffer: BatchNorm2d with
// HW = H*W, BatchNorm1d on (N, C) with HW = 1. Statistics are per channel c over the
// M = N*HW values x[n, c, :].
//
//   mean = Σ x / M,  var = Σ (x − mean)² / M (biased),  invstd = 1 / sqrt(var + eps)
//   x̂ = (x − mean) · invstd,  y = γ x̂ + β
//
// gamma/beta may be nullptr (no affine: γ = 1, β = 0); dgamma/dbeta may be nullptr (not
// computed). Every output is overwritten (=), never accumulated. The fast training kernels of
// float write, where y_bf16 / dx_bf16 is non-null, the bf16 rounding of y / dx there too, in the
// same pass and layout (kernels/cpu/bf16.h): what a bf16 convolution reading it takes as input.
// `*_ref` are plain loops accumulating in double; the versions without the suffix are the fast
// path (OpenMP over rows or channel blocks, SIMD reductions, one fused elementwise pass). Both
// take every (N, C, HW) buffer in `layout`: NCHW, or oneDNN's blocked nChw16c with C a multiple
// of 16 (kernels/cpu/channel_layout.h).
#include <cstdint>

#include "kernels/cpu/channel_layout.h"

namespace bt::cpu {

// Training forward: batch statistics.
//   x (N, C, HW) -> y (N, C, HW) (=)
//   gamma, beta (C) or nullptr
//   save_mean, save_invstd (C) (=): batch mean and 1/sqrt(var_biased + eps), for backward
//   running_mean, running_var (C), updated in place when non-null (PyTorch semantics):
//     running_mean = (1 − m) running_mean + m mean
//     running_var  = (1 − m) running_var  + m var·M/(M − 1)   (unbiased; no correction if M = 1,
//                                                            where PyTorch refuses to train)
template <class T>
void batch_norm_forward_train_ref(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                                  const T* beta, T eps, T momentum, T* y, T* save_mean,
                                  T* save_invstd, T* running_mean, T* running_var,
    ChannelLayout layout = ChannelLayout::nchw);
template <class T>
void batch_norm_forward_train(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                              const T* beta, T eps, T momentum, T* y, T* save_mean,
                              T* save_invstd, T* running_mean, T* running_var,
    ChannelLayout layout = ChannelLayout::nchw, uint16_t* y_bf16 = nullptr);

// Training backward (Ioffe & Szegedy 2015, §3; the form PyTorch's batch_norm_backward uses):
//   dβ = Σ dy,  dγ = Σ dy x̂,
//   dx = γ invstd / M · (M dy − Σ dy − x̂ Σ(dy x̂))
// (the last two terms are the gradients through the batch mean and the batch variance).
//   dy, x (N, C, HW); gamma (C) or nullptr; save_mean, save_invstd (C) from the forward
//   dx (N, C, HW) (=); dgamma, dbeta (C) (=) or nullptr.
// The fast version allows dx == dy (in place).
template <class T>
void batch_norm_backward_train_ref(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                                   const T* gamma, const T* save_mean, const T* save_invstd,
                                   T* dx, T* dgamma, T* dbeta,
    ChannelLayout layout = ChannelLayout::nchw);
template <class T>
void batch_norm_backward_train(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                               const T* gamma, const T* save_mean, const T* save_invstd, T* dx,
                               T* dgamma, T* dbeta,
    ChannelLayout layout = ChannelLayout::nchw, uint16_t* dx_bf16 = nullptr);

// Fused training BN + ReLU: y = max(0, γ x̂ + β), same arguments as batch_norm_forward_train.
// Its backward masks dy with (y > 0), y being that forward's output (N, C, HW), then applies
// the BN training backward above; dx (=), dgamma, dbeta (=) or nullptr. dx == dy is allowed.
template <class T>
void batch_norm_relu_forward_train(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                                   const T* beta, T eps, T momentum, T* y, T* save_mean,
                                   T* save_invstd, T* running_mean, T* running_var,
    ChannelLayout layout = ChannelLayout::nchw, uint16_t* y_bf16 = nullptr);
template <class T>
void batch_norm_relu_backward_train(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                                    const T* y, const T* gamma, const T* save_mean,
                                    const T* save_invstd, T* dx, T* dgamma, T* dbeta,
    ChannelLayout layout = ChannelLayout::nchw, uint16_t* dx_bf16 = nullptr);

// Eval forward with the running statistics: y = γ (x − running_mean) / sqrt(running_var + eps) + β.
//   x (N, C, HW) -> y (N, C, HW) (=); gamma, beta (C) or nullptr; running_mean, running_var (C)
template <class T>
void batch_norm_forward_eval_ref(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                                 const T* beta, const T* running_mean, const T* running_var,
                                 T eps, T* y,
    ChannelLayout layout = ChannelLayout::nchw);
template <class T>
void batch_norm_forward_eval(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                             const T* beta, const T* running_mean, const T* running_var, T eps,
                             T* y,
    ChannelLayout layout = ChannelLayout::nchw);

// Eval backward (the statistics are constants): with invstd = 1/sqrt(running_var + eps),
//   dx = dy γ invstd,  dγ = Σ dy x̂,  dβ = Σ dy.
//   dy, x (N, C, HW); dx (N, C, HW) (=); dgamma, dbeta (C) (=) or nullptr. dx == dy allowed
//   in the fast version.
template <class T>
void batch_norm_backward_eval_ref(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                                  const T* gamma, const T* running_mean, const T* running_var,
                                  T eps, T* dx, T* dgamma, T* dbeta,
    ChannelLayout layout = ChannelLayout::nchw);
template <class T>
void batch_norm_backward_eval(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                              const T* gamma, const T* running_mean, const T* running_var, T eps,
                              T* dx, T* dgamma, T* dbeta,
    ChannelLayout layout = ChannelLayout::nchw);

}  // namespace bt::cpu
