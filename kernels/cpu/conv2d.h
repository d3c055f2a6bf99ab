#pragma once
// 2-D convolution on the CPU: the single entry point, dispatching to one of the versions.
// NCHW, groups = 1, no bias; shapes as in conv2d_shape.h. With zero outside x:
//   forward          y[n,k,p,q]  = Σ_{c,r,s} x[n,c, p·sh−ph+r, q·sw−pw+s] · w[k,c,r,s]
//   backward_data    dx[n,c,h,w] = Σ_{k,r,s,p,q : p·sh−ph+r = h, q·sw−pw+s = w} dy[n,k,p,q] · w[k,c,r,s]
//   backward_weight  dw[k,c,r,s] = Σ_{n,p,q} dy[n,k,p,q] · x[n,c, p·sh−ph+r, q·sw−pw+s]
// Every pass OVERWRITES its output (=), in every version; the prior contents are never read.
// Buffers are dense and contiguous and must not alias. Versions:
//   reference    conv2d_ref.h     plain loops accumulating in double (float and double)
//   im2col       conv2d_im2col.h  im2col + sgemm/dgemm, OpenMP over chunks of the batch
//   dnnl_direct  conv2d_dnnl.h    oneDNN direct convolution (float only)
//   dnnl_auto    conv2d_dnnl.h    oneDNN convolution_auto: Winograd where oneDNN picks it
//   dnnl_bf16    conv2d_dnnl.h    oneDNN direct on bf16 copies of the inputs, float32 sums and output
// Thread-safe: the caches behind im2col and oneDNN are guarded by mutexes (calls serialise).
#include "kernels/cpu/conv2d_shape.h"

namespace bt::cpu {

// The float versions take `layouts` (the activations in NCHW or nChw16c); the oneDNN algos alone
// accept nChw16c (the others throw std::invalid_argument). dnnl_bf16 passes read the bf16
// roundings of x and dy in `bf16` where given (kernels/cpu/conv2d_shape.h), the rest ignore them.
void conv2d_forward(ConvAlgo algo, const Conv2dShape& s, const float* x, const float* w, float* y,
                    ConvLayouts layouts = {}, Bf16Activations bf16 = {});
void conv2d_backward_data(ConvAlgo algo, const Conv2dShape& s, const float* dy, const float* w, float* dx,
                          ConvLayouts layouts = {}, Bf16Activations bf16 = {});
void conv2d_backward_weight(ConvAlgo algo, const Conv2dShape& s, const float* x, const float* dy, float* dw,
                            ConvLayouts layouts = {}, Bf16Activations bf16 = {});

// Both backward passes of one layer: dx by data_algo, dw by weight_algo; either output may be
// null (not computed). With two oneDNN algos dy is reordered once for both (conv2d_dnnl.h).
void conv2d_backward(ConvAlgo data_algo, ConvAlgo weight_algo, const Conv2dShape& s, const float* x,
                     const float* dy, const float* w, float* dx, float* dw, ConvLayouts layouts = {},
                     Bf16Activations bf16 = {});
void conv2d_backward(ConvAlgo data_algo, ConvAlgo weight_algo, const Conv2dShape& s, const double* x,
                     const double* dy, const double* w, double* dx, double* dw, ConvLayouts layouts = {},
                     Bf16Activations bf16 = {});

// double: reference and im2col only, in NCHW; the oneDNN algos and nChw16c layouts throw
// std::invalid_argument (and there are no bf16 inputs to read).
void conv2d_forward(ConvAlgo algo, const Conv2dShape& s, const double* x, const double* w, double* y,
                    ConvLayouts layouts = {}, Bf16Activations bf16 = {});
void conv2d_backward_data(ConvAlgo algo, const Conv2dShape& s, const double* dy, const double* w, double* dx);
void conv2d_backward_weight(ConvAlgo algo, const Conv2dShape& s, const double* x, const double* dy, double* dw);

// The fastest float algo for this shape and pass, from kernel_bench measurements on the
// 2-core AVX-512 machines (the rules and figures are in conv2d.cpp).
ConvAlgo best_conv_algo(const Conv2dShape& s, ConvPass pass);
// One algo for all passes of a layer, for callers that do not choose per pass.
ConvAlgo best_conv_algo(const Conv2dShape& s);
// Under --precision bf16: dnnl_bf16 where oneDNN's bf16 kernel beats the float32 choice, else
// that choice (which then computes in float32; the rules and figures are in conv2d.cpp).
ConvAlgo best_conv_algo_bf16(const Conv2dShape& s, ConvPass pass);
// dnnl_direct, dnnl_auto, dnnl_bf16: the versions that take nChw16c activations.
bool is_dnnl(ConvAlgo algo);
// Whether algo's forward computes y in nChw16c (a oneDNN algo whose primitive works in it): the
// caller may then keep y blocked and save the reorder out, and the next layers' reorders in.
bool conv2d_computes_nChw16c(ConvAlgo algo, const Conv2dShape& s);

}  // namespace bt::cpu
