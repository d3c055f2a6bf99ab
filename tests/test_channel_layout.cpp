// nChw16c tensors (engine/layout.h): where each element sits, what refuses strided access, the
// ops that keep the layout (gradient-checked in float64 on blocked inputs), and conv2d and a whole
// ResNet-18 giving the values and gradients of the NCHW path.
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

#include "engine/layout.h"
#include "models/resnet.h"
#include "support/check_close.h"
#include "support/gradcheck.h"

using namespace bt;
using bt::testing::check_close;
using bt::testing::gradcheck;
using bt::testing::param;

namespace {

// Runs the body with conv2d's nChw16c output on or off, restoring the default.
struct BlockedActivations {
  explicit BlockedActivations(bool on) { set_blocked_activations(on); }
  ~BlockedActivations() { set_blocked_activations(true); }
};

Tensor iota(const Shape& shape, DType dtype = DType::f64) {
  std::vector<double> v(size_t(shape_numel(shape)));
  std::iota(v.begin(), v.end(), 0.0);
  return Tensor::from_vector(v, shape, dtype);
}

}  // namespace

TEST_CASE("nChw16c: element (n, c, h, w) sits at ((n*C/16 + c/16)*H*W + h*W + w)*16 + c%16") {
  const int64_t N = 2, C = 32, H = 3, W = 5;
  const Tensor x = iota({N, C, H, W});  // x[n, c, h, w] = its NCHW offset
  const Tensor b = x.to(Layout::nChw16c);
  REQUIRE(b.layout() == Layout::nChw16c);
  REQUIRE_FALSE(b.is_contiguous());
  const double* p = b.dense_data<double>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          const int64_t blocked = ((n * (C / 16) + c / 16) * H * W + h * W + w) * 16 + c % 16;
          REQUIRE(p[blocked] == double(((n * C + c) * H + h) * W + w));
        }
  REQUIRE(b.contiguous().to_vector() == x.to_vector());
  REQUIRE(b.contiguous().layout() == Layout::strided);
}

TEST_CASE("nChw16c: strided access is refused; views, copies and conversions read NCHW values") {
  const Tensor x = iota({2, 16, 2, 3});
  const Tensor b = x.to(Layout::nChw16c);
  REQUIRE_THROWS_WITH(b.data<double>(), Catch::Contains("nChw16c"));
  REQUIRE_THROWS_WITH(b.strides(), Catch::Contains("nChw16c"));
  REQUIRE_THROWS_WITH(iota({2, 8, 2, 3}).to(Layout::nChw16c), Catch::Contains("multiple of 16"));
  REQUIRE_THROWS_WITH(iota({32, 16}).to(Layout::nChw16c), Catch::Contains("(N, C, H, W)"));
  REQUIRE(b.to_vector() == x.to_vector());
  REQUIRE(b.reshape({2, -1}).to_vector() == x.reshape({2, -1}).to_vector());
  REQUIRE(b.transpose(1, 3).contiguous().to_vector() == x.transpose(1, 3).contiguous().to_vector());
  REQUIRE(b.slice(1, 3, 7).contiguous().to_vector() == x.slice(1, 3, 7).contiguous().to_vector());
  REQUIRE(b.to(DType::f32).to_vector() == x.to_vector());
  const Tensor c = b.clone();
  REQUIRE(c.layout() == Layout::nChw16c);
  REQUIRE(c.to_vector() == x.to_vector());
  Tensor into = Tensor::empty(x.shape(), DType::f64, Device::cpu, Layout::nChw16c);
  into.copy_(x.transpose(2, 3).transpose(2, 3));  // a strided source
  REQUIRE(into.to_vector() == x.to_vector());
  into.fill_(2.5);
  REQUIRE(into.to_vector() == std::vector<double>(size_t(x.numel()), 2.5));
}

TEST_CASE("gradcheck: the ops that keep nChw16c, on blocked float64 inputs") {
  Rng rng(31);
  Tensor x = param({2, 16, 3, 3}, rng), y = param({2, 16, 3, 3}, rng);
  Tensor g = param({16}, rng, 0.5, 1.5), bias = param({16}, rng);
  Tensor rm = rand({16}, rng, -0.5, 0.5, DType::f64), rv = rand({16}, rng, 0.5, 1.5, DType::f64);
  bool convert = true;  // false: the same functions on NCHW inputs, for the forward values
  auto blocked = [&convert](const Tensor& t) { return convert ? t.to(Layout::nChw16c) : t; };
  // Each op's output keeps the layout (so the blocked kernels are what gradcheck exercises).
  struct Case {
    const char* name;
    testing::Fn f;
    std::vector<Tensor> inputs;
  };
  const std::vector<Case> cases{
      {"relu", [&](auto& v) { return relu(blocked(v[0])); }, {x}},
      {"add", [&](auto& v) { return add(blocked(v[0]), blocked(v[1])); }, {x, y}},
      {"add_relu", [&](auto& v) { return add_relu(blocked(v[0]), blocked(v[1])); }, {x, y}},
      {"add_relu, one operand NCHW", [&](auto& v) { return add_relu(blocked(v[0]), v[1]); }, {x, y}},
      {"batch_norm train", [&](auto& v) { return batch_norm(blocked(v[0]), v[1], v[2], Tensor(), Tensor(), true); },
       {x, g, bias}},
      {"batch_norm_relu train",
       [&](auto& v) { return batch_norm_relu(blocked(v[0]), v[1], v[2], Tensor(), Tensor(), true); }, {x, g, bias}},
      {"batch_norm eval", [&](auto& v) { return batch_norm(blocked(v[0]), v[1], v[2], rm, rv, false); }, {x, g, bias}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    {
      NoGradGuard ng;
      const Tensor out = c.f(c.inputs);
      REQUIRE(out.layout() == Layout::nChw16c);
      convert = false;
      check_close(out.to_vector(), c.f(c.inputs).to_vector(), 1e-12, 1e-12, "forward against NCHW");
      convert = true;
    }
    gradcheck(c.f, c.inputs);
  }
  INFO("global_avg_pool2d");
  gradcheck([&](auto& v) { return global_avg_pool2d(mul(blocked(v[0]), blocked(v[1]))); }, {x, y});
}

TEST_CASE("conv2d in float32 writes nChw16c and equals the NCHW path, values and gradients") {
  Rng rng(32);
  struct Layer {
    int64_t C, K, R, stride, pad;
    const char* what;
  };
  const std::vector<Layer> layers{{16, 32, 3, 1, 1, "3x3 (oneDNN)"},
                                  {16, 32, 1, 2, 0, "1x1 stride-2 downsample"},
                                  {3, 16, 3, 1, 1, "3-channel stem (im2col, y reordered)"}};
  for (const Layer& l : layers) {
    INFO(l.what);
    const Tensor x = rand({4, l.C, 8, 8}, rng, -1, 1), w = rand({l.K, l.C, l.R, l.R}, rng, -0.5, 0.5);
    const Tensor r = rand({4, l.K, (8 + 2 * l.pad - l.R) / l.stride + 1, (8 + 2 * l.pad - l.R) / l.stride + 1}, rng);
    std::vector<double> out[2], dx[2], dw[2];
    for (bool on : {false, true}) {
      BlockedActivations mode(on);
      Tensor xi = (l.C % 16 == 0 && on ? x.to(Layout::nChw16c) : x).detach().requires_grad_();
      Tensor wi = w.detach().requires_grad_();
      const Tensor yi = conv2d(xi, wi, l.stride, l.pad);
      CHECK(yi.layout() == (on ? Layout::nChw16c : Layout::strided));
      sum(mul(yi, r)).backward();
      CHECK(xi.grad().layout() == xi.layout());
      out[on] = yi.to_vector();
      dx[on] = xi.grad().to_vector();
      dw[on] = wi.grad().to_vector();
    }
    check_close(out[1], out[0], 1e-5, 1e-5, "y");
    check_close(dx[1], dx[0], 1e-5, 1e-5, "dx");
    check_close(dw[1], dw[0], 1e-4, 1e-5, "dw");
  }
}

TEST_CASE("a ResNet-18 training step in nChw16c equals the NCHW one: loss and every gradient") {
  Rng init(33);
  models::ResNet net({.arch = "resnet18", .stem = models::Stem::cifar, .width = 16}, init);
  Rng rng(34);
  const Tensor x = rand({8, 3, 16, 16}, rng, -1, 1), r = rand({8, 128}, rng, -1, 1);
  std::vector<double> loss[2];
  std::vector<std::vector<double>> grads[2];
  for (bool on : {false, true}) {
    BlockedActivations mode(on);
    for (const Tensor& p : net.parameters()) p.zero_grad();
    const Tensor features = net.forward(x);
    CHECK(features.layout() == Layout::strided);
    const Tensor l = sum(mul(features, r));
    l.backward();
    loss[on] = l.to_vector();
    for (const Tensor& p : net.parameters()) grads[on].push_back(p.grad().to_vector());
  }
  check_close(loss[1], loss[0], 1e-3, 1e-4, "loss");
  REQUIRE(grads[0].size() == grads[1].size());
  for (size_t i = 0; i < grads[0].size(); ++i) {
    INFO("parameter " << i);
    check_close(grads[1][i], grads[0][i], 1e-3, 1e-3, "gradient");
  }
}
