#pragma once
// conv2d through oneDNN 2.6, float only. algo is ConvAlgo::dnnl_direct (convolution_direct),
// ConvAlgo::dnnl_auto (convolution_auto: oneDNN takes its Winograd F(4×4, 3×3) kernels where it
// judges them faster, else direct) or ConvAlgo::dnnl_bf16 (convolution_direct whose two inputs
// are rounded to bf16 by the reorder into the primitive's layout, with float32 sums and output:
// AVX512_BF16 dot products where the CPU has them). A dnnl_bf16 pass given the bf16 rounding of
// x or dy (Bf16Activations, kernels/cpu/conv2d_shape.h) reads that instead, with no copy when it
// is in the primitive's layout (nChw16c: the bf16 kernels work in it). Weights are KCRS; the activations NCHW or,
// per `layouts`, nChw16c (kernels/cpu/channel_layout.h). The primitive works in the layout it
// prefers (format_tag::any, mostly nChw16c), with reorders to and from it where the caller's differs.
// Primitives, reorders and their blocked buffers and scratchpads are created once per
// (shape, pass, algo) and cached; calls serialise on a mutex. One engine and stream for all.
// Threads: OpenMP's (oneDNN is built on the same libgomp). All three OVERWRITE their output (=).
#include <string>

#include "kernels/cpu/conv2d_shape.h"

namespace bt::cpu {

// y (N, K, P, Q) = conv(x (N, C, H, W), w (K, C, R, S))
void conv2d_forward_dnnl(ConvAlgo algo, const Conv2dShape& s, const float* x, const float* w, float* y,
                         ConvLayouts layouts = {}, Bf16Activations bf16 = {});
// dx (N, C, H, W) from dy (N, K, P, Q) and w (K, C, R, S)
void conv2d_backward_data_dnnl(ConvAlgo algo, const Conv2dShape& s, const float* dy, const float* w, float* dx,
                               ConvLayouts layouts = {}, Bf16Activations bf16 = {});
// dw (K, C, R, S) from x (N, C, H, W) and dy (N, K, P, Q)
void conv2d_backward_weight_dnnl(ConvAlgo algo, const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                 ConvLayouts layouts = {}, Bf16Activations bf16 = {});

// Both backward passes: dx as conv2d_backward_data_dnnl(data_algo, ...), then dw as
// conv2d_backward_weight_dnnl(weight_algo, ...), with one reorder of dy where both primitives
// work in the same layout of it (the usual case: it saves a copy of dy per layer and step).
void conv2d_backward_dnnl(ConvAlgo data_algo, ConvAlgo weight_algo, const Conv2dShape& s, const float* x,
                          const float* dy, const float* w, float* dx, float* dw, ConvLayouts layouts = {},
                          Bf16Activations bf16 = {});

// Whether the forward primitive computes y in nChw16c, so that y given in that layout needs no
// reorder out (creates and caches the primitive if needed).
bool conv2d_dnnl_computes_nChw16c(ConvAlgo algo, const Conv2dShape& s);

// The implementation oneDNN chose, e.g. "jit:avx512_core" or "jit_wino_4x3:avx512_core", and
// whether reorders surround it (creates and caches the primitive if needed).
std::string conv2d_dnnl_impl(ConvAlgo algo, const Conv2dShape& s, ConvPass pass, ConvLayouts layouts = {},
                             Bf16Activations bf16 = {});

}  // namespace bt::cpu
