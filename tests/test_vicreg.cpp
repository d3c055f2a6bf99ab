// VICReg (methods/vicreg): the loss against a float64 reference written here in plain loops
// (the formula of kernels/cpu/vicreg.h, read off the paper), its gradients against finite
// differences, the fused op against the composed one, the CUDA kernel on the SIMT emulator
// against the references, and a few training steps lowering the loss.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/ops.h"
#include "engine/optim/param_groups.h"
#include "engine/optim/sgd.h"
#include "kernels/cpu/vicreg.h"
#include "kernels/simt/simt.h"
#include "methods/method.h"
#include "methods/registry.h"
#include "methods/vicreg/vicreg.h"
#include "methods/vicreg/vicreg_loss.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random_vector.h"

using namespace bt;
using namespace bt::methods;

namespace {

// λ·inv + μ·Σ_views var + ν·Σ_views cov with λ = μ = 25, ν = 1, γ = 1, ε = 1e-4 (Bardes et
// al. 2022, eq. 1–6): the unbiased per-dimension variance, the off-diagonal of the covariance.
double reference_loss(int64_t N, int64_t D, const std::vector<double>& z1, const std::vector<double>& z2) {
  double inv = 0;
  for (size_t k = 0; k < z1.size(); ++k) inv += (z1[k] - z2[k]) * (z1[k] - z2[k]);
  inv /= double(N * D);
  double var = 0, cov = 0;
  for (const std::vector<double>* z : {&z1, &z2}) {
    std::vector<double> m(size_t(D), 0.0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < D; ++j) m[size_t(j)] += (*z)[size_t(n * D + j)] / double(N);
    for (int64_t i = 0; i < D; ++i)
      for (int64_t j = 0; j < D; ++j) {
        double c = 0;
        for (int64_t n = 0; n < N; ++n)
          c += ((*z)[size_t(n * D + i)] - m[size_t(i)]) * ((*z)[size_t(n * D + j)] - m[size_t(j)]);
        c /= double(N - 1);
        if (i == j)
          var += std::max(0.0, 1.0 - std::sqrt(c + 1e-4)) / double(D);
        else
          cov += c * c / double(D);
      }
  }
  return 25 * inv + 25 * var + 1 * cov;
}

// Central differences of reference_loss: ∂L/∂z1, then ∂L/∂z2.
std::vector<double> reference_gradient(int64_t N, int64_t D, std::vector<double> z1, std::vector<double> z2) {
  const double h = 1e-6;
  std::vector<double> grad;
  for (std::vector<double>* z : {&z1, &z2})
    for (double& x : *z) {
      const double saved = x;
      x = saved + h;
      const double lp = reference_loss(N, D, z1, z2);
      x = saved - h;
      const double lm = reference_loss(N, D, z1, z2);
      x = saved;
      grad.push_back((lp - lm) / (2 * h));
    }
  return grad;
}

// Embeddings whose columns have different offsets and spreads: standard deviations below γ
// (the hinge active) and above it (inactive), none near the kink at γ.
std::vector<double> embeddings(int64_t N, int64_t D, uint64_t seed) {
  std::vector<double> z = testing::randv<double>(size_t(N * D), seed);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 0; j < D; ++j) z[size_t(n * D + j)] = z[size_t(n * D + j)] * (j % 3 == 1 ? 3.0 : j % 3 == 0 ? 0.5 : 1.2) + double(j % 4);
  return z;
}

Tensor tensor(const std::vector<double>& v, int64_t N, int64_t D, DType dtype = DType::f64) {
  return Tensor::from_vector(v, {N, D}, dtype);
}

// The fused op's loss and its gradients (∂L/∂z1 then ∂L/∂z2) on a device.
struct Result {
  double loss;
  std::vector<double> grad;
};
Result fused(const std::vector<double>& z1, const std::vector<double>& z2, int64_t N, int64_t D, DType dtype,
             Device device) {
  Tensor a = tensor(z1, N, D, dtype).to(device), b = tensor(z2, N, D, dtype).to(device);
  a.requires_grad_();
  b.requires_grad_();
  Tensor loss = vicreg_loss(a, b);
  loss.backward();
  Result r{loss.item(), a.grad().to(Device::cpu).to_vector()};
  const std::vector<double> gb = b.grad().to(Device::cpu).to_vector();
  r.grad.insert(r.grad.end(), gb.begin(), gb.end());
  return r;
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double atol, double rtol) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::abs(got[i] - want[i]) <= atol + rtol * std::abs(want[i]))) {
      if (bad++ < 5) UNSCOPED_INFO("[" << i << "] got " << got[i] << " want " << want[i]);
    }
  CHECK(bad == 0);
}

struct Size {
  int64_t N, D;
};

}  // namespace

TEST_CASE("vicreg: a hand case, N = 2, D = 1", "[vicreg]") {
  // z1 = [1, −1]: var = 2, std = sqrt(2 + ε) > 1, no hinge; z2 = [0, 0]: std = 0.01, hinge 0.99.
  // inv = (1 + 1)/2 = 1; D = 1 has no off-diagonal. L = 25·1 + 25·(0 + (1 − 0.01)) = 49.75.
  Tensor a = Tensor::from_vector(std::vector<double>{1, -1}, {2, 1}, DType::f64);
  Tensor b = Tensor::zeros({2, 1}, DType::f64);
  CHECK(vicreg_loss(a, b).item() == Approx(49.75).epsilon(1e-12));
  CHECK(composed::vicreg_loss(a, b).item() == Approx(49.75).epsilon(1e-12));
  CHECK(reference_loss(2, 1, {1, -1}, {0, 0}) == Approx(49.75).epsilon(1e-12));
}

TEST_CASE("vicreg: the fused loss and its gradients match the float64 reference", "[vicreg]") {
  for (const Size s : {Size{2, 3}, Size{5, 4}, Size{9, 7}}) {
    INFO("N = " << s.N << " D = " << s.D);
    const auto z1 = embeddings(s.N, s.D, 1), z2 = embeddings(s.N, s.D, 2);
    const double ref = reference_loss(s.N, s.D, z1, z2);
    const std::vector<double> ref_grad = reference_gradient(s.N, s.D, z1, z2);
    const Result f64 = fused(z1, z2, s.N, s.D, DType::f64, Device::cpu);
    CHECK(f64.loss == Approx(ref).epsilon(1e-12));
    check_close(f64.grad, ref_grad, 1e-6, 1e-6);
    const Result f32 = fused(z1, z2, s.N, s.D, DType::f32, Device::cpu);
    CHECK(f32.loss == Approx(ref).epsilon(1e-5));
    check_close(f32.grad, ref_grad, 1e-4, 1e-4);
    // The kernel's own double reference (the kernel cases' oracle) agrees too.
    std::vector<double> d1(z1.size()), d2(z1.size());
    const cpu::VicregWeights w;
    const double kref = cpu::vicreg_loss_ref<double>(s.N, s.D, z1.data(), z2.data(), w, 1.0, d1.data(), d2.data()).loss(w);
    CHECK(kref == Approx(ref).epsilon(1e-12));
    d1.insert(d1.end(), d2.begin(), d2.end());
    check_close(d1, ref_grad, 1e-6, 1e-6);
  }
}

TEST_CASE("vicreg: gradcheck of the fused and composed losses in float64", "[vicreg]") {
  Rng rng(3);
  // Columns scaled apart so both sides of the hinge occur.
  Tensor scale = Tensor::from_vector(std::vector<double>{0.5, 3.0, 1.0, 0.2}, {1, 4}, DType::f64);
  Tensor a = mul(testing::param({6, 4}, rng), scale).detach(), b = mul(testing::param({6, 4}, rng), scale).detach();
  a.requires_grad_();
  b.requires_grad_();
  testing::gradcheck([](auto& v) { return vicreg_loss(v[0], v[1]); }, {a, b});
  testing::gradcheck([](auto& v) { return composed::vicreg_loss(v[0], v[1]); }, {a, b});
  const VicregWeights other{.invariance = 2, .variance = 3, .covariance = 5, .gamma = 1.5, .eps = 1e-3};
  testing::gradcheck([&](auto& v) { return vicreg_loss(v[0], v[1], other); }, {a, b});
}

TEST_CASE("vicreg: fused and composed agree, values and gradients", "[vicreg]") {
  for (const Size s : {Size{4, 3}, Size{64, 300}}) {  // 64×300: the OpenMP paths of the kernel
    INFO("N = " << s.N << " D = " << s.D);
    const auto z1 = embeddings(s.N, s.D, 3), z2 = embeddings(s.N, s.D, 4);
    for (const DType dt : {DType::f64, DType::f32}) {
      const double tol = dt == DType::f64 ? 1e-10 : 1e-4;
      Tensor a = tensor(z1, s.N, s.D, dt), b = tensor(z2, s.N, s.D, dt);
      a.requires_grad_();
      b.requires_grad_();
      Tensor fused_loss = vicreg_loss(a, b);
      fused_loss.backward();
      const std::vector<double> ga = a.grad().to_vector(), gb = b.grad().to_vector();
      a.zero_grad();
      b.zero_grad();
      Tensor composed_loss = composed::vicreg_loss(a, b);
      composed_loss.backward();
      CHECK(fused_loss.item() == Approx(composed_loss.item()).epsilon(tol));
      const double gscale = std::max(1e-3, *std::max_element(ga.begin(), ga.end()));
      check_close(ga, a.grad().to_vector(), tol * gscale, tol);
      check_close(gb, b.grad().to_vector(), tol * gscale, tol);
    }
  }
}

TEST_CASE("vicreg (simt): the CUDA kernel matches the float64 references", "[vicreg][simt][cuda]") {
  // Small shapes against the finite differences of the plain-loop reference; ragged shapes over
  // several 64×64 tiles against the kernel's double reference (checked above against them).
  for (const Size s : {Size{5, 4}, Size{9, 13}, Size{33, 70}, Size{70, 65}}) {
    INFO("N = " << s.N << " D = " << s.D);
    const auto z1 = embeddings(s.N, s.D, 5), z2 = embeddings(s.N, s.D, 6);
    double ref = 0;
    std::vector<double> ref_grad;
    if (s.N * s.D <= 200) {
      ref = reference_loss(s.N, s.D, z1, z2);
      ref_grad = reference_gradient(s.N, s.D, z1, z2);
    } else {
      std::vector<double> d1(z1.size()), d2(z1.size());
      const cpu::VicregWeights w;
      ref = cpu::vicreg_loss_ref<double>(s.N, s.D, z1.data(), z2.data(), w, 1.0, d1.data(), d2.data()).loss(w);
      ref_grad = d1;
      ref_grad.insert(ref_grad.end(), d2.begin(), d2.end());
    }
    double gscale = 0;
    for (double g : ref_grad) gscale = std::max(gscale, std::abs(g));
    Result first{};
    for (const char* schedule : {"forward", "random:1"}) {
      INFO(schedule);
      simt::ScopedSchedule scoped(schedule);
      const Result r = fused(z1, z2, s.N, s.D, DType::f32, Device::simt);
      CHECK(r.loss == Approx(ref).epsilon(1e-5));
      check_close(r.grad, ref_grad, 1e-5 * gscale, 1e-4);
      if (first.grad.empty()) {
        first = r;
      } else {  // fixed-order reductions: bitwise the same under another schedule
        CHECK(r.loss == first.loss);
        CHECK(r.grad == first.grad);
      }
    }
  }
}

TEST_CASE("vicreg: bad embeddings are one-line errors", "[vicreg]") {
  CHECK_THROWS_WITH(vicreg_loss(Tensor::zeros({1, 4}), Tensor::zeros({1, 4})), Catch::Contains("N > 1"));
  CHECK_THROWS_WITH(vicreg_loss(Tensor::zeros({3, 4}), Tensor::zeros({3, 5})), Catch::Contains("one shape"));
}

TEST_CASE("vicreg: 30 optimizer steps on one fixed batch lower the loss markedly", "[vicreg][methods]") {
  MethodConfig c;
  c.method = "vicreg";
  c.backbone = {.arch = "resnet18", .stem = models::Stem::cifar, .width = 8};
  c.proj_hidden = 64;
  c.proj_out = 32;
  Rng rng(42);
  auto method = make_method(c, rng);
  REQUIRE(method->name() == "vicreg");
  Tensor x = randn({16, 3, 12, 12}, rng);
  Tensor v1 = add(x, mul(randn(x.shape(), rng), 0.1)), v2 = add(x, mul(randn(x.shape(), rng), 0.1));
  // lr 0.003, not test_methods.cpp's 0.05: λ = μ = 25 make VICReg's gradients far larger, and
  // plain SGD at 0.05 diverges within 10 steps (bt_train uses LARS, whose trust ratio scales them).
  optim::SGD opt(optim::decay_groups(method->trainable_parameters(), 1e-5));
  opt.set_lr(0.003);
  double first = 0, last = 0;
  for (int step = 1; step <= 30; ++step) {
    opt.zero_grad();
    Tensor loss = method->loss(v1, v2);
    if (step == 1) first = loss.item();
    last = loss.item();
    loss.backward();
    opt.step();
  }
  INFO("loss " << first << " -> " << last);
  REQUIRE(last < 0.5 * first);  // the floor is 0
}
