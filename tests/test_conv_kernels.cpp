// conv2d kernels: the reference against hand-derived values and the adjoint identity, then
// every fast version (im2col f32/f64, oneDNN direct and auto) against the reference on the
// registry's conv2d cases, and no heap allocation in steady state.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "kernels/cases/alloc_count.h"
#include "kernels/cases/check.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv2d_dnnl.h"

using namespace bt::cpu;
using namespace bt::cases;

namespace {

// x = [1 2 3; 4 5 6; 7 8 9] (1 image, 1 channel), w = [1 2; 3 4] (1 filter).
const double kX[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
const double kW[4] = {1, 2, 3, 4};

template <class T>
std::vector<T> as(const double* v, int n) {
  return std::vector<T>(v, v + n);
}

template <class T>
void check_hand_cases(ConvAlgo algo) {
  const std::vector<T> x = as<T>(kX, 9), w = as<T>(kW, 4);
  const Conv2dShape s{.N = 1, .C = 1, .H = 3, .W = 3, .K = 1, .R = 2, .S = 2};
  REQUIRE(s.P() == 2);
  REQUIRE(s.Q() == 2);
  std::vector<T> y(4, T(NAN)), dx(9, T(NAN)), dw(4, T(NAN));

  // y[p,q] = Σ_rs x[p+r, q+s]·w[r,s]:  y00 = 1·1+2·2+4·3+5·4 = 37, y01 = 2+6+15+24 = 47,
  // y10 = 4+10+21+32 = 67, y11 = 5+12+24+36 = 77
  conv2d_forward(algo, s, x.data(), w.data(), y.data());
  CHECK(y == std::vector<T>{37, 47, 67, 77});

  // dy = all ones: dx[h,v] = Σ of w[r,s] over the windows covering (h,v) = [1 3 2; 4 10 6; 3 7 4]
  const std::vector<T> ones(4, T(1));
  conv2d_backward_data(algo, s, ones.data(), w.data(), dx.data());
  CHECK(dx == std::vector<T>{1, 3, 2, 4, 10, 6, 3, 7, 4});
  // dy = [1 0; 0 0]: only window (0,0), so dx = w in the top-left corner
  const std::vector<T> e00{1, 0, 0, 0};
  conv2d_backward_data(algo, s, e00.data(), w.data(), dx.data());
  CHECK(dx == std::vector<T>{1, 2, 0, 3, 4, 0, 0, 0, 0});

  // dy = all ones: dw[r,s] = Σ_pq x[p+r, q+s]: 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28
  conv2d_backward_weight(algo, s, x.data(), ones.data(), dw.data());
  CHECK(dw == std::vector<T>{12, 16, 24, 28});

  // stride 2, pad 1: P = (3 + 2 − 2)/2 + 1 = 2, windows start at rows/cols −1 and 1.
  // y00 = x00·w11 = 4; y01 = x01·w10 + x02·w11 = 6 + 12 = 18; y10 = x10·w01 + x20·w11 = 8 + 28 = 36;
  // y11 = x11·w00 + x12·w01 + x21·w10 + x22·w11 = 5 + 12 + 24 + 36 = 77
  const Conv2dShape s2{.N = 1, .C = 1, .H = 3, .W = 3, .K = 1, .R = 2, .S = 2,
                       .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1};
  conv2d_forward(algo, s2, x.data(), w.data(), y.data());
  CHECK(y == std::vector<T>{4, 18, 36, 77});
  // dy = all ones: each input pixel lies in exactly one window, at tap (h+1) mod 2, (v+1) mod 2:
  // dx = [w11 w10 w11; w01 w00 w01; w11 w10 w11]
  conv2d_backward_data(algo, s2, ones.data(), w.data(), dx.data());
  CHECK(dx == std::vector<T>{4, 3, 4, 2, 1, 2, 4, 3, 4});
  // dw[r,s] = Σ of x over the taps (r,s) of the 4 windows: dw00 = x11 = 5, dw01 = x10 + x12 = 10,
  // dw10 = x01 + x21 = 10, dw11 = x00 + x02 + x20 + x22 = 20
  conv2d_backward_weight(algo, s2, x.data(), ones.data(), dw.data());
  CHECK(dw == std::vector<T>{5, 10, 10, 20});
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

std::vector<double> uniform(int64_t n, uint64_t seed) {
  Buffer b("u", DType::f64, {n});
  b.fill_uniform(seed, -1, 1);
  return std::vector<double>(b.data<double>(), b.data<double>() + n);
}

}  // namespace

TEST_CASE("conv2d reference: hand-derived 3x3 input, 2x2 kernel", "[conv]") {
  check_hand_cases<double>(ConvAlgo::reference);
  check_hand_cases<float>(ConvAlgo::reference);
  // the fast versions give the same small-integer results exactly
  check_hand_cases<double>(ConvAlgo::im2col);
  check_hand_cases<float>(ConvAlgo::im2col);
  check_hand_cases<float>(ConvAlgo::dnnl_direct);
}

// Backward data and backward weight are the adjoints of forward in x and in w:
//   <conv(x, w), dy> = <x, bwd_data(dy, w)> = <w, bwd_weight(x, dy)>.
TEST_CASE("conv2d: the backward passes are the adjoints of forward (float64)", "[conv]") {
  const std::vector<Conv2dShape> shapes{
      {.N = 2, .C = 3, .H = 7, .W = 9, .K = 5, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
      {.N = 2, .C = 3, .H = 8, .W = 8, .K = 4, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2},
      {.N = 3, .C = 2, .H = 9, .W = 6, .K = 3, .R = 5, .S = 3, .stride_h = 2, .pad_h = 2, .pad_w = 1},
      {.N = 2, .C = 4, .H = 5, .W = 5, .K = 3, .stride_h = 2, .stride_w = 2},
  };
  for (const Conv2dShape& s : shapes)
    for (ConvAlgo algo : {ConvAlgo::reference, ConvAlgo::im2col}) {
      INFO(s.str() << " " << to_string(algo));
      const std::vector<double> x = uniform(s.x_size(), 1), w = uniform(s.w_size(), 2), dy = uniform(s.y_size(), 3);
      std::vector<double> y(s.y_size()), dx(s.x_size()), dw(s.w_size());
      conv2d_forward(algo, s, x.data(), w.data(), y.data());
      conv2d_backward_data(algo, s, dy.data(), w.data(), dx.data());
      conv2d_backward_weight(algo, s, x.data(), dy.data(), dw.data());
      const double a = dot(y, dy), b = dot(x, dx), c = dot(w, dw);
      CHECK(b == Approx(a).epsilon(1e-12));
      CHECK(c == Approx(a).epsilon(1e-12));
    }
}

TEST_CASE("conv2d: every fast version matches the reference on the registry's cases", "[conv]") {
  const std::vector<KernelCase> cases = collect_cases({Suite::test}, {"conv2d"});
  REQUIRE(cases.size() >= 100);
  for (const KernelCase& c : cases) {
    const CaseData ref = run_version(c, kReference);
    for (const std::string& v : c.versions) {
      const CheckResult r = check_version(c, v, ref);
      INFO(c.name << " [" << v << "] max |err| " << r.max_abs_err << ", " << r.max_tol_ratio
                  << " of tolerance\n" << r.message);
      CHECK(r.ok);
      CHECK(r.checked == ref.outputs[0].numel());
    }
  }
}

TEST_CASE("conv2d: float64 has no oneDNN version; invalid shapes throw", "[conv]") {
  const Conv2dShape s{.N = 1, .C = 1, .H = 3, .W = 3, .K = 1, .R = 2, .S = 2};
  std::vector<double> x(9), w(4), y(4);
  CHECK_THROWS_AS(conv2d_forward(ConvAlgo::dnnl_direct, s, x.data(), w.data(), y.data()), std::invalid_argument);
  CHECK_THROWS_AS(conv2d_backward_weight(ConvAlgo::dnnl_auto, s, x.data(), y.data(), w.data()), std::invalid_argument);
  Conv2dShape bad = s;
  bad.R = 5;  // kernel larger than the padded input
  CHECK_FALSE(bad.valid());
  CHECK_THROWS_AS(conv2d_forward(ConvAlgo::reference, bad, x.data(), w.data(), y.data()), std::invalid_argument);
}

// After a first call has built its buffers (and oneDNN primitives), a call with the same shape
// makes no heap allocation in our code. oneDNN 2.6's dnnl_primitive_execute itself builds a
// small std::unordered_map of its arguments per primitive: those few small nodes are allowed.
TEST_CASE("conv2d: steady-state calls do not allocate", "[conv][alloc]") {
  if (!alloc_counting_available()) {
    WARN("allocation counting is off under the sanitizers");
    return;
  }
  const Conv2dShape s{.N = 4, .C = 16, .H = 8, .W = 8, .K = 32, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1};
  std::vector<float> x(s.x_size(), 0.5f), w(s.w_size(), 0.25f), y(s.y_size()), dx(s.x_size()), dw(s.w_size());
  std::vector<double> xd(s.x_size(), 0.5), wd(s.w_size(), 0.25), yd(s.y_size()), dxd(s.x_size()), dwd(s.w_size());
  auto all_passes = [&](ConvAlgo algo) {
    conv2d_forward(algo, s, x.data(), w.data(), y.data());
    conv2d_backward_data(algo, s, y.data(), w.data(), dx.data());
    conv2d_backward_weight(algo, s, x.data(), y.data(), dw.data());
  };
  for (ConvAlgo algo : {ConvAlgo::im2col, ConvAlgo::dnnl_direct, ConvAlgo::dnnl_auto}) {
    INFO(to_string(algo));
    all_passes(algo);  // warm-up: buffers, primitives, OpenMP and OpenBLAS thread pools
    AllocCounter counter;
    for (int i = 0; i < 3; ++i) all_passes(algo);
    const AllocStats st = counter.stats();
    if (algo == ConvAlgo::im2col) {
      CHECK(st.count == 0);
    } else {
      // ≤ 4 primitives per pass (3 reorders + the convolution), a few small map nodes each
      CHECK(st.max_bytes <= 256);
      CHECK(st.count <= 3 * 3 * 4 * 8);
    }
  }
  conv2d_forward(ConvAlgo::im2col, s, xd.data(), wd.data(), yd.data());
  conv2d_backward_data(ConvAlgo::im2col, s, yd.data(), wd.data(), dxd.data());
  conv2d_backward_weight(ConvAlgo::im2col, s, xd.data(), yd.data(), dwd.data());
  AllocCounter counter;
  conv2d_forward(ConvAlgo::im2col, s, xd.data(), wd.data(), yd.data());
  conv2d_backward_data(ConvAlgo::im2col, s, yd.data(), wd.data(), dxd.data());
  conv2d_backward_weight(ConvAlgo::im2col, s, xd.data(), yd.data(), dwd.data());
  CHECK(counter.stats().count == 0);
}

TEST_CASE("conv2d: oneDNN reports its implementation; auto is direct or Winograd", "[conv]") {
  const Conv2dShape s{.N = 32, .C = 64, .H = 16, .W = 16, .K = 64, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1};
  for (ConvPass pass : {ConvPass::forward, ConvPass::backward_data, ConvPass::backward_weight}) {
    const std::string direct = conv2d_dnnl_impl(ConvAlgo::dnnl_direct, s, pass);
    const std::string automatic = conv2d_dnnl_impl(ConvAlgo::dnnl_auto, s, pass);
    INFO(to_string(pass) << ": direct " << direct << ", auto " << automatic);
    CHECK(direct.find("wino") == std::string::npos);
    CHECK_FALSE(automatic.empty());
  }
}

// conv2d_backward runs both passes with one reorder of dy where the two oneDNN primitives share
// its layout: the results must be those of the two passes called one by one, bit for bit, also
// when the two passes use different algos, when dy's copy is reused across layers of one shape,
// and when dx or dw is not wanted.
TEST_CASE("conv2d_backward equals backward_data then backward_weight, bit for bit", "[conv]") {
  const Conv2dShape shapes[] = {
      {.N = 9, .C = 16, .H = 8, .W = 8, .K = 32, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
      {.N = 4, .C = 16, .H = 9, .W = 9, .K = 16, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1},
      {.N = 2, .C = 3, .H = 7, .W = 9, .K = 5, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
  };
  const std::pair<ConvAlgo, ConvAlgo> algos[] = {{ConvAlgo::dnnl_direct, ConvAlgo::dnnl_direct},
                                                 {ConvAlgo::dnnl_auto, ConvAlgo::dnnl_auto},
                                                 {ConvAlgo::dnnl_bf16, ConvAlgo::dnnl_bf16},
                                                 {ConvAlgo::dnnl_bf16, ConvAlgo::dnnl_direct},
                                                 {ConvAlgo::im2col, ConvAlgo::dnnl_auto}};
  for (const Conv2dShape& s : shapes)
    for (const auto& [data_algo, weight_algo] : algos) {
      INFO(s.str() << " " << to_string(data_algo) << " + " << to_string(weight_algo));
      for (int round = 0; round < 2; ++round) {  // the second with other values: no stale copy of dy
        std::vector<float> x(s.x_size()), w(s.w_size()), dy(s.y_size());
        for (size_t i = 0; i < x.size(); ++i) x[i] = float(std::sin(0.37 * double(i) + round));
        for (size_t i = 0; i < w.size(); ++i) w[i] = float(std::cos(0.23 * double(i) - round));
        for (size_t i = 0; i < dy.size(); ++i) dy[i] = float(std::sin(0.11 * double(i) * (round + 1)));
        std::vector<float> dx(x.size(), NAN), dw(w.size(), NAN), dx1(x.size(), NAN), dw1(w.size(), NAN);
        conv2d_backward(data_algo, weight_algo, s, x.data(), dy.data(), w.data(), dx.data(), dw.data());
        conv2d_backward_data(data_algo, s, dy.data(), w.data(), dx1.data());
        conv2d_backward_weight(weight_algo, s, x.data(), dy.data(), dw1.data());
        CHECK(dx == dx1);
        CHECK(dw == dw1);
        std::vector<float> only_dw(w.size(), NAN);
        conv2d_backward(data_algo, weight_algo, s, x.data(), dy.data(), w.data(), nullptr, only_dw.data());
        CHECK(only_dw == dw1);
      }
    }
}

TEST_CASE("conv2d on nChw16c activations equals NCHW, bit for bit, in every pass", "[conv]") {
  const Conv2dShape shapes[] = {
      {.N = 3, .C = 16, .H = 8, .W = 8, .K = 32, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
      {.N = 2, .C = 32, .H = 9, .W = 9, .K = 16, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1},
      {.N = 2, .C = 16, .H = 8, .W = 8, .K = 32, .R = 1, .S = 1, .stride_h = 2, .stride_w = 2},
  };
  const ChannelLayout blocked = ChannelLayout::nChw16c;
  for (const Conv2dShape& s : shapes)
    for (ConvAlgo algo : {ConvAlgo::dnnl_direct, ConvAlgo::dnnl_auto, ConvAlgo::dnnl_bf16}) {
      INFO(s.str() << " " << to_string(algo));
      CHECK(conv2d_computes_nChw16c(algo, s));
      const int64_t HWx = s.H * s.W, HWy = s.P() * s.Q();
      std::vector<float> x(s.x_size()), w(s.w_size()), dy(s.y_size());
      for (size_t i = 0; i < x.size(); ++i) x[i] = float(std::sin(0.37 * double(i)));
      for (size_t i = 0; i < w.size(); ++i) w[i] = float(std::cos(0.23 * double(i)));
      for (size_t i = 0; i < dy.size(); ++i) dy[i] = float(std::sin(0.11 * double(i)));
      std::vector<float> y(dy.size()), dx(x.size()), dw(w.size());
      conv2d_forward(algo, s, x.data(), w.data(), y.data());
      conv2d_backward(algo, algo, s, x.data(), dy.data(), w.data(), dx.data(), dw.data());
      // The same passes on blocked copies (all three layout combinations of x and y).
      std::vector<float> xb(x.size()), dyb(dy.size());
      nchw_to_nChw16c(s.N, s.C, HWx, x.data(), xb.data());
      nchw_to_nChw16c(s.N, s.K, HWy, dy.data(), dyb.data());
      for (ConvLayouts layouts : {ConvLayouts{blocked, blocked}, ConvLayouts{ChannelLayout::nchw, blocked},
                                  ConvLayouts{blocked, ChannelLayout::nchw}}) {
        const bool bx = layouts.x == blocked, by = layouts.y == blocked;
        INFO("x blocked " << bx << ", y blocked " << by);
        std::vector<float> yb(y.size(), NAN), dxb(x.size(), NAN), dwb(w.size(), NAN);
        conv2d_forward(algo, s, bx ? xb.data() : x.data(), w.data(), yb.data(), layouts);
        conv2d_backward(algo, algo, s, bx ? xb.data() : x.data(), by ? dyb.data() : dy.data(), w.data(), dxb.data(),
                        dwb.data(), layouts);
        std::vector<float> y2(y.size()), dx2(x.size());
        if (by) nChw16c_to_nchw(s.N, s.K, HWy, yb.data(), y2.data());
        else y2 = yb;
        if (bx) nChw16c_to_nchw(s.N, s.C, HWx, dxb.data(), dx2.data());
        else dx2 = dxb;
        CHECK(y2 == y);
        CHECK(dx2 == dx);
        CHECK(dwb == dw);
      }
    }
  const Conv2dShape ragged{.N = 1, .C = 8, .H = 4, .W = 4, .K = 16, .R = 3, .S = 3};
  std::vector<float> x(ragged.x_size()), w(ragged.w_size()), y(ragged.y_size());
  CHECK_THROWS_AS(conv2d_forward(ConvAlgo::dnnl_direct, ragged, x.data(), w.data(), y.data(),
                                 {ChannelLayout::nChw16c, ChannelLayout::nchw}),
                  std::invalid_argument);
  CHECK_THROWS_AS(conv2d_forward(ConvAlgo::im2col, ragged, x.data(), w.data(), y.data(),
                                 {ChannelLayout::nchw, ChannelLayout::nChw16c}),
                  std::invalid_argument);
}
