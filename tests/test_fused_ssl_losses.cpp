// The fused SSL loss ops: hand-derived values, the classic bugs, agreement with the losses
// composed from primitive ops (value and gradient), and float64 finite-difference checks.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/allocator.h"
#include "methods/barlow_twins/barlow_twins_loss.h"
#include "methods/common/regression_loss.h"
#include "methods/simclr/simclr_loss.h"
#include "support/gradcheck.h"

using namespace bt;
using namespace bt::methods;
using bt::testing::gradcheck;
using bt::testing::param;

namespace {
constexpr double kEps = 1e-5;  // Barlow Twins' BN epsilon

// Four samples, two dimensions: columns with mean 0, biased variance 1 and orthogonal.
Tensor whitened() {
  return Tensor::from_vector(std::vector<double>{1, 1, 1, -1, -1, 1, -1, -1}, {4, 2}, DType::f64);
}

void require_close(const Tensor& a, const Tensor& b, double tol) {
  const auto va = a.to_vector(), vb = b.to_vector();
  REQUIRE(va.size() == vb.size());
  for (size_t i = 0; i < va.size(); ++i) REQUIRE(va[i] == Approx(vb[i]).margin(tol).epsilon(tol));
}
}  // namespace

TEST_CASE("Barlow Twins: perfectly correlated whitened views give (almost) zero loss") {
  // ẑ = z / √(1 + eps), so C = I / (1 + eps): loss = 2 (1 − 1/(1 + eps))², off-diagonal 0.
  const double cii = 1 / (1 + kEps);
  const double expected = 2 * (1 - cii) * (1 - cii);
  REQUIRE(barlow_twins_loss(whitened(), whitened(), 0.0051).item() == Approx(expected).margin(1e-15));
  // The N×N sample matrix ẑ1 ẑ2ᵀ / N would have diagonal 2/4 = 0.5, not 1: loss ≥ 4 · 0.25.
  REQUIRE(barlow_twins_loss(whitened(), whitened(), 0.0051).item() < 1e-9);
}

TEST_CASE("Barlow Twins: anti-correlated views are penalised on the diagonal") {
  // z2 = −z1: C = −I/(1 + eps), loss = 2 (1 + 1/(1 + eps))² ≈ 8. Dropping the on-diagonal
  // term (the seed article's bug) would give 0 here.
  const double cii = -1 / (1 + kEps);
  REQUIRE(barlow_twins_loss(whitened(), mul(whitened(), -1.0), 0.0051).item() ==
          Approx(2 * (1 - cii) * (1 - cii)).epsilon(1e-12));
}

TEST_CASE("Barlow Twins: off-diagonal terms weigh λ") {
  // z2 = z1 with its columns swapped: C = [[0, 1], [1, 0]]/(1 + eps):
  // loss = 2·1² (diagonal) + λ·2·(1/(1 + eps))².
  Tensor z1 = whitened();
  Tensor z2 = cat({z1.slice(1, 1, 2), z1.slice(1, 0, 1)}, 1);
  const double c = 1 / (1 + kEps), lambda = 0.25;
  REQUIRE(barlow_twins_loss(z1, z2, lambda).item() == Approx(2 + lambda * 2 * c * c).epsilon(1e-12));
  REQUIRE(barlow_twins_auto_lambda(2049) == Approx(1.0 / 2048));
  Tensor cc = barlow_twins_cross_correlation(z1, z2);
  REQUIRE(cc.shape() == Shape{2, 2});  // D×D, not N×N
  require_close(cc, Tensor::from_vector(std::vector<double>{0, c, c, 0}, {2, 2}, DType::f64), 1e-12);
}

TEST_CASE("NT-Xent: one-hot embeddings, hand-computed") {
  // N = 2, D = 4: z1 = z2 = [e0; e1]. Each row's positive has similarity 1/τ and its two
  // negatives 0: loss = −log(e^{1/τ} / (e^{1/τ} + 2)).
  Tensor z = Tensor::from_vector(std::vector<double>{1, 0, 0, 0, 0, 1, 0, 0}, {2, 4}, DType::f64);
  for (double tau : {0.1, 0.5, 1.0}) {
    const double e = std::exp(1 / tau);
    // (At τ = 0.1 the loss is ~1e-4, computed as lse − s: relative precision ~1e-12 / 1e-4.)
    REQUIRE(nt_xent_loss(z, z, tau).item() == Approx(-std::log(e / (e + 2))).epsilon(1e-9));
  }
}

TEST_CASE("BYOL loss of identical and opposite vectors") {
  Rng rng(3);
  Tensor p = randn({5, 7}, rng, DType::f64);
  REQUIRE(byol_loss(p, mul(p, 3.0)).item() == Approx(0).margin(1e-12));
  REQUIRE(byol_loss(p, mul(p, -2.0)).item() == Approx(4).epsilon(1e-12));
}

TEST_CASE("fused losses equal the composed ones, value and gradient") {
  Rng rng(4);
  struct Case { int64_t N, D; };
  for (Case c : {Case{8, 5}, Case{5, 12}, Case{64, 96}}) {
    Tensor a = param({c.N, c.D}, rng), b = param({c.N, c.D}, rng);
    using LossFn = Tensor (*)(const Tensor&, const Tensor&, double);
    const std::pair<LossFn, LossFn> pairs[] = {{barlow_twins_loss, composed::barlow_twins_loss},
                                               {nt_xent_loss, composed::nt_xent_loss}};
    for (auto [fused, reference] : pairs) {
      for (double arg : {0.0051, 0.5}) {
        a.zero_grad(); b.zero_grad();
        Tensor lf = fused(a, b, arg);
        lf.backward();
        Tensor ga = a.grad(), gb = b.grad();
        a.zero_grad(); b.zero_grad();
        Tensor lr = reference(a, b, arg);
        lr.backward();
        REQUIRE(lf.item() == Approx(lr.item()).epsilon(1e-10));
        require_close(ga, a.grad(), 1e-9);
        require_close(gb, b.grad(), 1e-9);
      }
    }
    a.zero_grad(); b.zero_grad();
    byol_loss(a, b).backward();
    Tensor ga = a.grad();
    a.zero_grad();
    composed::byol_loss(a, b).backward();
    require_close(ga, a.grad(), 1e-10);
  }
}

TEST_CASE("fused losses in float32 match float64 composed values") {
  Rng rng(5);
  Tensor a = randn({128, 256}, rng), b = randn({128, 256}, rng);
  const double f32 = barlow_twins_loss(a, b, 0.0051).item();
  const double f64 = composed::barlow_twins_loss(a.to(DType::f64), b.to(DType::f64), 0.0051).item();
  REQUIRE(f32 == Approx(f64).epsilon(1e-4));
  REQUIRE(nt_xent_loss(a, b, 0.1).item() ==
          Approx(composed::nt_xent_loss(a.to(DType::f64), b.to(DType::f64), 0.1).item()).epsilon(1e-4));
}

TEST_CASE("gradcheck: fused SSL losses") {
  Rng rng(6);
  Tensor a = param({6, 4}, rng), b = param({6, 4}, rng);
  gradcheck([](auto& v) { return barlow_twins_loss(v[0], v[1], 0.3); }, {a, b});
  gradcheck([](auto& v) { return nt_xent_loss(v[0], v[1], 0.5); }, {a, b});
  gradcheck([](auto& v) { return byol_loss(v[0], v[1].detach()); }, {a, b.detach()});
}

TEST_CASE("BYOL loss passes no gradient to its target") {
  Rng rng(7);
  Tensor p = param({4, 3}, rng), t = param({4, 3}, rng);
  byol_loss(p, t).backward();
  REQUIRE(p.grad().defined());
  REQUIRE_FALSE(t.grad().defined());
}

TEST_CASE("SSL losses reject mismatched embeddings") {
  Tensor a = Tensor::zeros({4, 3}), b = Tensor::zeros({4, 5});
  REQUIRE_THROWS_WITH(barlow_twins_loss(a, b, 0.1), Catch::Contains("(4, 3)") && Catch::Contains("(4, 5)"));
  REQUIRE_THROWS_WITH(nt_xent_loss(a, a, 0.0), Catch::Contains("temperature"));
}

TEST_CASE("fused losses keep at most one D×D buffer and no 2N×2N one alive (allocator statistics)") {
  Rng rng(8);
  for (Device dev : {Device::cpu, Device::simt}) {
    INFO(device_name(dev));
    CachingAllocator& alloc = allocator(dev);
    {  // Barlow Twins, N = 64, D = 512: one D×D float buffer is 1 MiB, an N×D one 128 KiB.
      const int64_t N = 64, D = 512;
      Tensor a = randn({N, D}, rng).to(dev), b = randn({N, D}, rng).to(dev);
      a.requires_grad_();
      b.requires_grad_();
      const size_t base = alloc.stats().live_bytes;
      alloc.reset_peak();
      barlow_twins_loss(a, b, 0.0051).backward();
      const size_t peak = alloc.stats().peak_live_bytes - base;
      INFO("Barlow Twins peak " << peak << " bytes above the inputs");
      REQUIRE(peak >= size_t(D * D * 4));      // G exists ...
      REQUIRE(peak < size_t(2 * D * D * 4));   // ... and nothing else of its size
    }
    {  // NT-Xent, 2N = 1024 rows of D = 32: the similarity matrix would be 4 MiB.
      const int64_t N = 512, D = 32;
      Tensor a = randn({N, D}, rng).to(dev), b = randn({N, D}, rng).to(dev);
      a.requires_grad_();
      b.requires_grad_();
      const size_t base = alloc.stats().live_bytes;
      alloc.reset_peak();
      nt_xent_loss(a, b, 0.5).backward();
      const size_t peak = alloc.stats().peak_live_bytes - base;
      INFO("NT-Xent peak " << peak << " bytes above the inputs");
      REQUIRE(peak < size_t(2 * N * 2 * N * 4) / 2);
    }
  }
}
