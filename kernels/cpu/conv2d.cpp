#include "kernels/cpu/conv2d.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "kernels/cpu/conv2d_dnnl.h"
#include "kernels/cpu/conv2d_im2col.h"
#include "kernels/cpu/conv2d_ref.h"

namespace bt::cpu {

bool Conv2dShape::valid() const {
  return N > 0 && C > 0 && H > 0 && W > 0 && K > 0 && R > 0 && S > 0 && stride_h > 0 && stride_w > 0 &&
         pad_h >= 0 && pad_w >= 0 && H + 2 * pad_h >= R && W + 2 * pad_w >= S;
}

std::string Conv2dShape::str() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "N%ld C%ld H%ld W%ld K%ld %ldx%ld s%ldx%ld p%ldx%ld", long(N), long(C), long(H),
                long(W), long(K), long(R), long(S), long(stride_h), long(stride_w), long(pad_h), long(pad_w));
  return buf;
}

const char* to_string(ConvAlgo algo) {
  switch (algo) {
    case ConvAlgo::reference: return "reference";
    case ConvAlgo::im2col: return "im2col";
    case ConvAlgo::dnnl_direct: return "dnnl_direct";
    case ConvAlgo::dnnl_auto: return "dnnl_auto";
    case ConvAlgo::dnnl_bf16: return "dnnl_bf16";
  }
  return "?";
}

const char* to_string(ConvPass pass) {
  switch (pass) {
    case ConvPass::forward: return "fwd";
    case ConvPass::backward_data: return "bwd_data";
    case ConvPass::backward_weight: return "bwd_weight";
  }
  return "?";
}

namespace {

void check_shape(const Conv2dShape& s) {
  if (!s.valid()) throw std::invalid_argument("conv2d: invalid shape " + s.str());
}

[[noreturn]] void no_double(ConvAlgo algo) {
  throw std::invalid_argument(std::string("conv2d: algo ") + to_string(algo) + " has no double version");
}

// The versions without a layouts argument work in NCHW.
void check_plain(ConvAlgo algo, ConvLayouts layouts) {
  if (layouts != ConvLayouts{})
    throw std::invalid_argument(std::string("conv2d: algo ") + to_string(algo) + " takes NCHW activations only");
}

}  // namespace

bool is_dnnl(ConvAlgo a) { return a == ConvAlgo::dnnl_direct || a == ConvAlgo::dnnl_auto || a == ConvAlgo::dnnl_bf16; }

bool conv2d_computes_nChw16c(ConvAlgo algo, const Conv2dShape& s) {
  return is_dnnl(algo) && s.valid() && conv2d_dnnl_computes_nChw16c(algo, s);
}

namespace {

// One float pass: the oneDNN version in any layouts, else the reference or im2col in NCHW.
template <class Ref, class Im2col, class Dnnl>
void run_pass(ConvAlgo algo, const Conv2dShape& s, ConvLayouts layouts, Ref ref, Im2col im2col, Dnnl dnnl) {
  check_shape(s);
  if (is_dnnl(algo)) return dnnl();
  check_plain(algo, layouts);
  if (algo == ConvAlgo::reference) return ref();
  im2col();
}

}  // namespace

void conv2d_forward(ConvAlgo algo, const Conv2dShape& s, const float* x, const float* w, float* y,
                    ConvLayouts layouts, Bf16Activations bf16) {
  run_pass(
      algo, s, layouts, [&] { conv2d_forward_ref(s, x, w, y); }, [&] { conv2d_forward_im2col(s, x, w, y); },
      [&] { conv2d_forward_dnnl(algo, s, x, w, y, layouts, bf16); });
}

void conv2d_backward_data(ConvAlgo algo, const Conv2dShape& s, const float* dy, const float* w, float* dx,
                          ConvLayouts layouts, Bf16Activations bf16) {
  run_pass(
      algo, s, layouts, [&] { conv2d_backward_data_ref(s, dy, w, dx); },
      [&] { conv2d_backward_data_im2col(s, dy, w, dx); }, [&] { conv2d_backward_data_dnnl(algo, s, dy, w, dx, layouts, bf16); });
}

void conv2d_backward_weight(ConvAlgo algo, const Conv2dShape& s, const float* x, const float* dy, float* dw,
                            ConvLayouts layouts, Bf16Activations bf16) {
  run_pass(
      algo, s, layouts, [&] { conv2d_backward_weight_ref(s, x, dy, dw); },
      [&] { conv2d_backward_weight_im2col(s, x, dy, dw); },
      [&] { conv2d_backward_weight_dnnl(algo, s, x, dy, dw, layouts, bf16); });
}

void conv2d_backward(ConvAlgo data_algo, ConvAlgo weight_algo, const Conv2dShape& s, const float* x,
                     const float* dy, const float* w, float* dx, float* dw, ConvLayouts layouts,
                     Bf16Activations bf16) {
  check_shape(s);
  if (dx && dw && is_dnnl(data_algo) && is_dnnl(weight_algo))
    return conv2d_backward_dnnl(data_algo, weight_algo, s, x, dy, w, dx, dw, layouts, bf16);
  if (dx) conv2d_backward_data(data_algo, s, dy, w, dx, layouts, bf16);
  if (dw) conv2d_backward_weight(weight_algo, s, x, dy, dw, layouts, bf16);
}

void conv2d_backward(ConvAlgo data_algo, ConvAlgo weight_algo, const Conv2dShape& s, const double* x,
                     const double* dy, const double* w, double* dx, double* dw, ConvLayouts layouts,
                     Bf16Activations) {
  check_plain(data_algo, layouts);
  if (dx) conv2d_backward_data(data_algo, s, dy, w, dx);
  if (dw) conv2d_backward_weight(weight_algo, s, x, dy, dw);
}

void conv2d_forward(ConvAlgo algo, const Conv2dShape& s, const double* x, const double* w, double* y,
                    ConvLayouts layouts, Bf16Activations) {
  check_shape(s);
  check_plain(algo, layouts);
  if (algo == ConvAlgo::reference) return conv2d_forward_ref(s, x, w, y);
  if (algo == ConvAlgo::im2col) return conv2d_forward_im2col(s, x, w, y);
  no_double(algo);
}

void conv2d_backward_data(ConvAlgo algo, const Conv2dShape& s, const double* dy, const double* w, double* dx) {
  check_shape(s);
  if (algo == ConvAlgo::reference) return conv2d_backward_data_ref(s, dy, w, dx);
  if (algo == ConvAlgo::im2col) return conv2d_backward_data_im2col(s, dy, w, dx);
  no_double(algo);
}

void conv2d_backward_weight(ConvAlgo algo, const Conv2dShape& s, const double* x, const double* dy, double* dw) {
  check_shape(s);
  if (algo == ConvAlgo::reference) return conv2d_backward_weight_ref(s, x, dy, dw);
  if (algo == ConvAlgo::im2col) return conv2d_backward_weight_im2col(s, x, dy, dw);
  no_double(algo);
}

// From kernel_bench --clock cpu (ResNet-18 CIFAR layers at width 16 / batch 256 and width 64 /
// batch 128, 2 threads, OpenBLAS SkylakeX kernels; GFLOP per CPU-second, the machine shared):
//  - 3×3 layers with ≥ 16 channels: oneDNN direct beats im2col + sgemm 1.2–2.5× (all layers:
//    1.9× at width 16, 1.5× at width 64);
//  - Winograd (dnnl_auto) beats direct 1.3–2.5× on 3×3 stride-1 layers with ≥ 32 channels in
//    and out, and on backward_weight already at 16 (oneDNN takes Winograd only above batch 8;
//    below, dnnl_auto runs direct);
//  - 1×1 layers: im2col (a GEMM straight on x at stride 1) is up to 3× faster, oneDNN spending
//    more on the NCHW ↔ nChw16c reorders than on the convolution;
//  - a 3-channel 3×3 stem: im2col, 1.1–2.7× (oneDNN's backward_data is poor at C = 3); a 7×7
//    stem runs forward and backward_weight faster on oneDNN.
ConvAlgo best_conv_algo(const Conv2dShape& s, ConvPass pass) {
  if (s.R == 1 && s.S == 1) return ConvAlgo::im2col;
  if (s.C < 16)
    return s.R * s.S <= 9 || pass == ConvPass::backward_data ? ConvAlgo::im2col : ConvAlgo::dnnl_direct;
  const int64_t min_channels = pass == ConvPass::backward_weight ? 16 : 32;
  const bool winograd = s.R == 3 && s.S == 3 && s.stride_h == 1 && s.stride_w == 1 && std::min(s.C, s.K) >= min_channels;
  return winograd ? ConvAlgo::dnnl_auto : ConvAlgo::dnnl_direct;
}

// The forward choice also has the least total time over the three passes of every ResNet-18
// layer measured (width 16's 16-channel layer1: direct beats Winograd forward and backward_data
// by more than it loses on backward_weight).
ConvAlgo best_conv_algo(const Conv2dShape& s) { return best_conv_algo(s, ConvPass::forward); }

// From kernel_bench --match r18-w16 and r18-w64 (batch 256 and 128, 2 threads, AVX512_BF16,
// oneDNN 2.6): bf16 direct against the float32 choice, per pass.
//  - stride 2 (the first 3×3 of a stage): bf16 1.2–1.8× faster forward and backward_data; its
//    backward_weight 0.3–250× (C = 16–64 at batch 256 hit a pathological bf16 kernel): float32;
//  - stride 1 under 64 channels: bf16 1.1–1.7× in every pass;
//  - stride 1 at 64–128 channels on small images (8×8, 4×4), where Winograd's tiles are few:
//    bf16 wins backward_weight (1.6–1.9×) and, at 4×4, forward and backward_data (1.3×);
//  - stride 1 otherwise: float32 Winograd is 1.1–1.3× faster than bf16 direct;
//  - 1×1 downsamples and the 3-channel stem: im2col is as fast or up to 2× faster.
ConvAlgo best_conv_algo_bf16(const Conv2dShape& s, ConvPass pass) {
  if (s.R * s.S == 1 || s.C < 16) return best_conv_algo(s, pass);
  const bool strided = s.stride_h > 1 || s.stride_w > 1;
  const int64_t pixels = s.H * s.W;
  bool bf16;
  if (strided) bf16 = pass != ConvPass::backward_weight;
  else if (pass == ConvPass::backward_weight) bf16 = s.C < 64 || (s.C <= 128 && pixels <= 64);
  else bf16 = s.C < 64 || (s.C <= 128 && pixels <= 16);
  return bf16 ? ConvAlgo::dnnl_bf16 : best_conv_algo(s, pass);
}

}  // namespace bt::cpu
