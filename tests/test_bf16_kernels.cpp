// The bf16 kernels behind --precision bf16: gemm_bf16 and conv2d's dnnl_bf16 must equal the
// float64 reference run on bf16-rounded inputs (round to nearest even) up to float32 summation
// error, which shows that the only loss of precision is the inputs' rounding; and they must differ
// from the reference on the unrounded inputs by more than that, which shows that bf16 was used.
// The registry's cases (tests/test_kernel_families.cpp) check them at bf16 tolerance on every
// shape. On a CPU with AVX512_BF16, oneDNN must have picked a bf16 kernel, not an emulation.
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cpu/bf16.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv2d_dnnl.h"
#include "kernels/cpu/conv2d_ref.h"
#include "kernels/cpu/dnnl_support.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_bf16.h"

using namespace bt::cpu;

namespace {

// x rounded to the nearest bf16 (kernels/cpu/bf16.h), as a float.
float rounded(float x) { return from_bf16(to_bf16(x)); }

std::vector<float> uniform(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (float& x : v) x = d(gen);
  return v;
}

std::vector<double> rounded_double(const std::vector<float>& v) {
  std::vector<double> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = rounded(v[i]);
  return r;
}

std::vector<double> as_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// The largest |got − want| over the elements where `keep` holds.
template <class Keep>
double max_error(const std::vector<float>& got, const std::vector<double>& want, Keep keep) {
  double e = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (keep(i)) e = std::max(e, std::abs(double(got[i]) - want[i]));
  return e;
}

}  // namespace

TEST_CASE("to_bf16 rounds to the nearest bf16, ties to even", "[bf16]") {
  CHECK(rounded(1.0f) == 1.0f);
  CHECK(rounded(1.0f + 0x1p-8f) == 1.0f);                 // a tie: 1 is even
  CHECK(rounded(1.0f + 3 * 0x1p-8f) == 1.0f + 0x1p-6f);   // a tie: 1 + 2⁻⁶ is even
  CHECK(rounded(1.0f + 0x1p-8f + 0x1p-20f) == 1.0f + 0x1p-7f);
  CHECK(rounded(-3.0f) == -3.0f);
  CHECK(to_bf16(-3.0f) == 0xc040);
  // What VCVTNEPS2BF16 does with the special values: denormals become zeros of their sign,
  // infinities stay, NaNs stay NaN (quiet, sign kept) even where rounding would carry into the
  // exponent, and the largest floats round up to infinity.
  CHECK(to_bf16(0x1p-130f) == 0x0000);
  CHECK(to_bf16(-0x1p-127f) == 0x8000);
  CHECK(to_bf16(0x1p-126f) == 0x0080);  // the smallest normal
  CHECK(to_bf16(INFINITY) == 0x7f80);
  CHECK(to_bf16(-INFINITY) == 0xff80);
  CHECK(to_bf16(std::bit_cast<float>(0x7f80ffffu)) == 0x7fc0);  // a signalling NaN
  CHECK(to_bf16(std::bit_cast<float>(0xffffffffu)) == 0xffff);
  CHECK(to_bf16(3.4e38f) == 0x7f80);  // past the largest bf16, 0x7f7f (3.39e38), by more than half an ulp
}

// Where a caller passes the bf16 rounding of x or dy (Bf16Activations), dnnl_bf16 reads it in
// place of its own rounding copy of the float32 one, and must get bit for bit the same results:
// the rounding in kernels/cpu/bf16.h is oneDNN's. The float32 buffers handed beside the bf16
// ones are NaN, so a pass that read them in spite of the bf16 ones would show it.
TEST_CASE("conv2d dnnl_bf16 given bf16 x and dy equals rounding its own copies, bit for bit", "[bf16][conv]") {
  const Conv2dShape shapes[] = {
      {.N = 4, .C = 16, .H = 8, .W = 8, .K = 32, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
      {.N = 3, .C = 32, .H = 9, .W = 9, .K = 16, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1},
  };
  for (const Conv2dShape& s : shapes)
    for (const ChannelLayout l : {ChannelLayout::nchw, ChannelLayout::nChw16c}) {
      const ConvLayouts layouts{l, l};
      INFO(s.str() << (l == ChannelLayout::nChw16c ? " nChw16c" : " nchw"));
      std::vector<float> x = uniform(size_t(s.x_size()), 6), w = uniform(size_t(s.w_size()), 7),
                         dy = uniform(size_t(s.y_size()), 8);
      if (dnnl_support::has_avx512_bf16()) x[5] = 0x1p-130f;  // a denormal: both flush it (VCVTNEPS2BF16)
      std::vector<uint16_t> xb(x.size()), dyb(dy.size());
      for (size_t i = 0; i < x.size(); ++i) xb[i] = to_bf16(x[i]);
      for (size_t i = 0; i < dy.size(); ++i) dyb[i] = to_bf16(dy[i]);
      const std::vector<float> x_nan(x.size(), NAN), dy_nan(dy.size(), NAN);
      const Bf16Activations given{xb.data(), dyb.data()};
      auto out = [](int64_t n) { return std::vector<float>(size_t(n), 777.0f); };
      std::vector<float> y = out(s.y_size()), y_given = out(s.y_size()), dx = out(s.x_size()),
                         dx_given = out(s.x_size()), dw = out(s.w_size()), dw_given = out(s.w_size());
      conv2d_forward(ConvAlgo::dnnl_bf16, s, x.data(), w.data(), y.data(), layouts);
      conv2d_forward(ConvAlgo::dnnl_bf16, s, x_nan.data(), w.data(), y_given.data(), layouts, given);
      CHECK(y_given == y);
      conv2d_backward_data(ConvAlgo::dnnl_bf16, s, dy.data(), w.data(), dx.data(), layouts);
      conv2d_backward_data(ConvAlgo::dnnl_bf16, s, dy_nan.data(), w.data(), dx_given.data(), layouts, given);
      CHECK(dx_given == dx);
      conv2d_backward_weight(ConvAlgo::dnnl_bf16, s, x.data(), dy.data(), dw.data(), layouts);
      conv2d_backward_weight(ConvAlgo::dnnl_bf16, s, x_nan.data(), dy_nan.data(), dw_given.data(), layouts, given);
      CHECK(dw_given == dw);
      // Both backward passes in one call, and the float32 passes beside a bf16 one: the
      // data pass in float32 (dnnl_direct) reads the float32 dy, the weight pass the bf16 ones.
      std::vector<float> dx_f32 = out(s.x_size()), dx_both = out(s.x_size()), dw_both = out(s.w_size());
      conv2d_backward_data(ConvAlgo::dnnl_direct, s, dy.data(), w.data(), dx_f32.data(), layouts);
      conv2d_backward(ConvAlgo::dnnl_direct, ConvAlgo::dnnl_bf16, s, x_nan.data(), dy.data(), w.data(),
                      dx_both.data(), dw_both.data(), layouts, given);
      CHECK(dx_both == dx_f32);
      CHECK(dw_both == dw);
      conv2d_backward(ConvAlgo::dnnl_bf16, ConvAlgo::dnnl_bf16, s, x_nan.data(), dy_nan.data(), w.data(),
                      dx_both.data(), dw_both.data(), layouts, given);
      CHECK(dx_both == dx);
      CHECK(dw_both == dw);
      if (l == ChannelLayout::nChw16c) {  // the bf16 kernels work in nChw16c: no copy of x at all
        const std::string impl = conv2d_dnnl_impl(ConvAlgo::dnnl_bf16, s, ConvPass::forward, layouts, given);
        INFO(impl);
        CHECK(impl.find("+reorder in0") == std::string::npos);
        CHECK(conv2d_dnnl_impl(ConvAlgo::dnnl_bf16, s, ConvPass::forward, layouts).find("+reorder in0") !=
              std::string::npos);
      }
    }
}

TEST_CASE("gemm_bf16 equals the float64 GEMM of the bf16-rounded operands", "[bf16][gemm]") {
  struct Size {
    int64_t M, N, K, pad;
  };
  for (const Size sz : {Size{7, 5, 3, 0}, Size{1, 13, 9, 2}, Size{64, 48, 333, 3}, Size{130, 67, 129, 0}})
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      const int64_t lda = (ta ? sz.M : sz.K) + sz.pad, ldb = (tb ? sz.K : sz.N) + sz.pad, ldc = sz.N + sz.pad;
      const std::vector<float> A = uniform(size_t((ta ? sz.K : sz.M) * lda), 1),
                               B = uniform(size_t((tb ? sz.N : sz.K) * ldb), 2);
      std::vector<float> C(size_t(sz.M * ldc), 777.0f);
      for (int64_t i = 0; i < sz.M; ++i)
        for (int64_t j = 0; j < sz.N; ++j) C[size_t(i * ldc + j)] = NAN;  // overwritten, never read
      gemm_bf16(ta, tb, sz.M, sz.N, sz.K, A.data(), lda, B.data(), ldb, C.data(), ldc);
      std::vector<double> rounded(C.size(), 777.0), exact(C.size(), 777.0);
      gemm_ref(ta, tb, sz.M, sz.N, sz.K, 1.0, rounded_double(A).data(), lda, rounded_double(B).data(), ldb, 0.0,
               rounded.data(), ldc);
      gemm_ref(ta, tb, sz.M, sz.N, sz.K, 1.0, as_double(A).data(), lda, as_double(B).data(), ldb, 0.0,
               exact.data(), ldc);
      INFO("M " << sz.M << " N " << sz.N << " K " << sz.K << " ta " << ta << " tb " << tb << " pad " << sz.pad
                << ": " << gemm_bf16_impl(ta, tb, sz.M, sz.N, sz.K, lda, ldb, ldc));
      auto in_c = [&](size_t i) { return int64_t(i) % ldc < sz.N; };
      const double f32_sums = 4e-6 * std::sqrt(double(sz.K));  // float32 summation of K products ≤ 1
      CHECK(max_error(C, rounded, in_c) <= f32_sums);
      CHECK(max_error(C, exact, in_c) > f32_sums);  // bf16 was used
      CHECK(max_error(C, exact, [&](size_t i) { return !in_c(i); }) == 0);  // the padding untouched
    }
}

TEST_CASE("conv2d dnnl_bf16 equals the float64 convolution of the bf16-rounded inputs", "[bf16][conv]") {
  const Conv2dShape shapes[] = {
      {.N = 2, .C = 3, .H = 7, .W = 9, .K = 5, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
      {.N = 4, .C = 16, .H = 8, .W = 8, .K = 32, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
      {.N = 3, .C = 32, .H = 9, .W = 9, .K = 16, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1},
      {.N = 2, .C = 16, .H = 6, .W = 6, .K = 32, .stride_h = 2, .stride_w = 2},  // 1×1 downsample
  };
  for (const Conv2dShape& s : shapes) {
    const std::vector<float> x = uniform(size_t(s.x_size()), 3), w = uniform(size_t(s.w_size()), 4),
                             dy = uniform(size_t(s.y_size()), 5);
    const std::vector<double> xr = rounded_double(x), wr = rounded_double(w), dyr = rounded_double(dy);
    std::vector<float> y(size_t(s.y_size()), NAN), dx(size_t(s.x_size()), NAN), dw(size_t(s.w_size()), NAN);
    std::vector<double> y_ref(y.size()), dx_ref(dx.size()), dw_ref(dw.size());
    conv2d_forward(ConvAlgo::dnnl_bf16, s, x.data(), w.data(), y.data());
    conv2d_backward_data(ConvAlgo::dnnl_bf16, s, dy.data(), w.data(), dx.data());
    conv2d_backward_weight(ConvAlgo::dnnl_bf16, s, x.data(), dy.data(), dw.data());
    conv2d_forward_ref(s, xr.data(), wr.data(), y_ref.data());
    conv2d_backward_data_ref(s, dyr.data(), wr.data(), dx_ref.data());
    conv2d_backward_weight_ref(s, xr.data(), dyr.data(), dw_ref.data());
    auto all = [](size_t) { return true; };
    // float32 sums of the terms behind one output (at most N·P·Q, for backward_weight)
    const double f32_sums = 4e-6 * std::sqrt(double(s.N * s.P() * s.Q() + s.C * s.R * s.S + s.K * s.R * s.S));
    INFO(s.str() << ": " << conv2d_dnnl_impl(ConvAlgo::dnnl_bf16, s, ConvPass::forward));
    CHECK(max_error(y, y_ref, all) <= f32_sums);
    CHECK(max_error(dx, dx_ref, all) <= f32_sums);
    CHECK(max_error(dw, dw_ref, all) <= f32_sums);
    std::vector<double> y_exact(y.size());
    conv2d_forward_ref(s, as_double(x).data(), as_double(w).data(), y_exact.data());
    CHECK(max_error(y, y_exact, all) > f32_sums);  // bf16 was used
  }
}

TEST_CASE("on a CPU with AVX512_BF16 oneDNN runs bf16 kernels, not an emulation", "[bf16]") {
  if (!dnnl_support::has_avx512_bf16()) {
    WARN("this CPU (as oneDNN sees it) has no AVX512_BF16: --precision bf16 is refused here");
    return;
  }
  const Conv2dShape s{.N = 16, .C = 32, .H = 16, .W = 16, .K = 32, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1};
  for (ConvPass pass : {ConvPass::forward, ConvPass::backward_data, ConvPass::backward_weight}) {
    const std::string impl = conv2d_dnnl_impl(ConvAlgo::dnnl_bf16, s, pass);
    INFO(to_string(pass) << ": " << impl);
    CHECK(impl.find("bf16") != std::string::npos);
  }
  const std::string impl = gemm_bf16_impl(false, true, 256, 512, 512, 512, 512, 512);
  INFO(impl);
  CHECK(impl.find("bf16") != std::string::npos);
}
