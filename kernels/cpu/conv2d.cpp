#include "kernels/cpu/conv2d.h"

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

}  // namespace

void conv2d_forward(ConvAlgo algo, const Conv2dShape& s, const float* x, const float* w, float* y) {
  check_shape(s);
  switch (algo) {
    case ConvAlgo::reference: return conv2d_forward_ref(s, x, w, y);
    case ConvAlgo::im2col: return conv2d_forward_im2col(s, x, w, y);
    case ConvAlgo::dnnl_direct:
    case ConvAlgo::dnnl_auto: return conv2d_forward_dnnl(algo, s, x, w, y);
  }
}

void conv2d_backward_data(ConvAlgo algo, const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  check_shape(s);
  switch (algo) {
    case ConvAlgo::reference: return conv2d_backward_data_ref(s, dy, w, dx);
    case ConvAlgo::im2col: return conv2d_backward_data_im2col(s, dy, w, dx);
    case ConvAlgo::dnnl_direct:
    case ConvAlgo::dnnl_auto: return conv2d_backward_data_dnnl(algo, s, dy, w, dx);
  }
}

void conv2d_backward_weight(ConvAlgo algo, const Conv2dShape& s, const float* x, const float* dy, float* dw) {
  check_shape(s);
  switch (algo) {
    case ConvAlgo::reference: return conv2d_backward_weight_ref(s, x, dy, dw);
    case ConvAlgo::im2col: return conv2d_backward_weight_im2col(s, x, dy, dw);
    case ConvAlgo::dnnl_direct:
    case ConvAlgo::dnnl_auto: return conv2d_backward_weight_dnnl(algo, s, x, dy, dw);
  }
}

void conv2d_forward(ConvAlgo algo, const Conv2dShape& s, const double* x, const double* w, double* y) {
  check_shape(s);
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

// Chosen from kernel_bench (ResNet-18 CIFAR layers, 2 threads): TODO figures.
ConvAlgo best_conv_algo(const Conv2dShape& s, ConvPass) {
  const bool wino = s.R == 3 && s.S == 3 && s.stride_h == 1 && s.stride_w == 1 && s.C >= 64 && s.K >= 64;
  return wino ? ConvAlgo::dnnl_auto : ConvAlgo::dnnl_direct;
}

ConvAlgo best_conv_algo(const Conv2dShape& s) { return best_conv_algo(s, ConvPass::forward); }

}  // namespace bt::cpu
