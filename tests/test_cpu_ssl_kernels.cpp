// CPU SSL losses (docs/design.md §5): Barlow Twins, NT-Xent, BYOL/SimSiam.
// Hand-derived values pin the references (including the classic Barlow Twins bugs: the N×N
// sample matrix in place of the D×D cross-correlation, and a dropped on-diagonal term); the
// fast versions are compared with the references on a grid of shapes; every gradient is
// checked by central finite differences of its loss in double.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

#include "support/check_close.h"
#include "support/random_vector.h"
#include "kernels/cpu/normalize.h"
#include "kernels/cpu/ssl_loss_kernels.h"

using namespace bt::cpu;

using bt::testing::check_close;
using bt::testing::randv;

namespace {

// Central differences of a scalar loss L(x), compared with the analytic gradient.
void check_fd(const std::function<double(const std::vector<double>&)>& L, std::vector<double> x,
              const std::vector<double>& grad, const char* what, double h = 1e-6) {
  std::vector<double> fd(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double s = x[i];
    x[i] = s + h;
    const double lp = L(x);
    x[i] = s - h;
    const double lm = L(x);
    x[i] = s;
    fd[i] = (lp - lm) / (2 * h);
  }
  check_close(grad, fd, 1e-6, 1e-5, what);
}

double bt_loss(bool fast, int64_t N, int64_t D, const std::vector<double>& z1,
               const std::vector<double>& z2, double lambda, double g = 1,
               std::vector<double>* dz1 = nullptr, std::vector<double>* dz2 = nullptr) {
  std::vector<double> a(N * D), b(N * D);
  double* d1 = dz1 ? (dz1->resize(N * D), dz1->data()) : a.data();
  double* d2 = dz2 ? (dz2->resize(N * D), dz2->data()) : b.data();
  return fast ? barlow_twins_loss<double>(N, D, z1.data(), z2.data(), lambda, g, d1, d2, nullptr)
              : barlow_twins_loss_ref<double>(N, D, z1.data(), z2.data(), lambda, g, d1, d2);
}

// The two classic bugs, written out only to prove that the hand cases tell them apart.
double bt_bug_sample_matrix(int64_t N, int64_t D, const std::vector<double>& zh1,
                            const std::vector<double>& zh2, double lambda) {
  double loss = 0;  // N×N matrix ẑ1 ẑ2ᵀ / N in place of the D×D ẑ1ᵀ ẑ2 / N
  for (int64_t a = 0; a < N; ++a)
    for (int64_t b = 0; b < N; ++b) {
      double c = 0;
      for (int64_t d = 0; d < D; ++d) c += zh1[a * D + d] * zh2[b * D + d] / double(N);
      loss += a == b ? (1 - c) * (1 - c) : lambda * c * c;
    }
  return loss;
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Barlow Twins

TEST_CASE("barlow_twins: hand case N = D = 2, z1 = z2 = [[1,-1],[-1,1]]", "[barlow]") {
  // Each column is ±1: mean 0, biased var 1, so ẑ = ±a with a = 1/sqrt(1 + eps).
  // C = ẑᵀẑ / 2 = a² [[1, −1], [−1, 1]]: C_ii = 1/(1 + eps) (not exactly 1), C_01 = C_10 = −a².
  // loss = 2 (1 − a²)² + λ·2a⁴ = 2 (eps/(1 + eps))² + 2λ/(1 + eps)².
  const double eps = kBarlowTwinsBnEps;
  const std::vector<double> z{1, -1, -1, 1};
  for (double lambda : {0.0051, 1.0})
    for (bool fast : {false, true}) {
      const double expect = 2 * std::pow(eps / (1 + eps), 2) + 2 * lambda / std::pow(1 + eps, 2);
      CHECK(bt_loss(fast, 2, 2, z, z, lambda) == Approx(expect).epsilon(1e-13));
    }
}

TEST_CASE("barlow_twins: hand case N = 4, D = 2 separates the classic bugs", "[barlow]") {
  // z1 columns u = [1,−1,1,−1], v = [1,1,−1,−1]; z2 columns u and w = u + v = [2,0,0,−2].
  // u, v: mean 0, var 1 -> ẑ = a·u, a·v, a = 1/sqrt(1 + eps); w: mean 0, var 2 -> ẑ = b·w,
  // b = 1/sqrt(2 + eps). With u·u = 4, u·w = 4, v·u = 0, v·w = 4:
  //   C = [[a², ab], [0, ab]],  loss = (1 − a²)² + (1 − ab)² + λ (ab)².
  const double eps = kBarlowTwinsBnEps, a = 1 / std::sqrt(1 + eps), b = 1 / std::sqrt(2 + eps);
  const std::vector<double> z1{1, 1, -1, 1, 1, -1, -1, -1}, z2{1, 2, -1, 0, 1, 0, -1, -2};
  const double lambda = 0.0051;
  const double expect = std::pow(1 - a * a, 2) + std::pow(1 - a * b, 2) + lambda * a * b * a * b;
  for (bool fast : {false, true}) {
    INFO("fast " << fast);
    CHECK(bt_loss(fast, 4, 2, z1, z2, lambda) == Approx(expect).epsilon(1e-13));
  }
  // The bugs give other values: dropping the diagonal leaves λ(ab)² ≈ 0.00255 against
  // expect ≈ 0.0884, and the N×N sample matrix of the same ẑ gives yet another number.
  const std::vector<double> zh1{a, a, -a, a, a, -a, -a, -a}, zh2{a, 2 * b, -a, 0, a, 0, -a, -2 * b};
  CHECK(std::fabs(lambda * a * b * a * b - expect) > 0.05);
  CHECK(std::fabs(bt_bug_sample_matrix(4, 2, zh1, zh2, lambda) - expect) > 0.05);
}

TEST_CASE("barlow_twins: gradients match finite differences", "[barlow][fd]") {
  struct S { int64_t N, D; };
  for (const S s : {S{5, 3}, S{3, 4}, S{2, 2}, S{8, 6}})
    for (bool fast : {false, true}) {
      INFO("N " << s.N << " D " << s.D << " fast " << fast);
      const auto z1 = randv<double>(s.N * s.D, 101, -1, 2), z2 = randv<double>(s.N * s.D, 102);
      const double lambda = 0.3, g = 0.7;  // a large λ so the off-diagonal term matters
      std::vector<double> dz1, dz2;
      bt_loss(fast, s.N, s.D, z1, z2, lambda, g, &dz1, &dz2);
      check_fd([&](const auto& v) { return g * bt_loss(fast, s.N, s.D, v, z2, lambda); }, z1, dz1, "dz1");
      check_fd([&](const auto& v) { return g * bt_loss(fast, s.N, s.D, z1, v, lambda); }, z2, dz2, "dz2");
    }
}

TEMPLATE_TEST_CASE("barlow_twins: fast matches reference", "[barlow]", float, double) {
  using T = TestType;
  struct S { int64_t N, D; };
  for (const S s : {S{1, 3}, S{2, 2}, S{5, 3}, S{3, 7}, S{64, 256}, S{256, 130}, S{33, 65}}) {
    INFO("N " << s.N << " D " << s.D);
    const size_t n = size_t(s.N * s.D);
    const auto z1 = randv<T>(n, 111, -2, 3), z2 = randv<T>(n, 112);
    const T lambda = T(1) / T(std::max<int64_t>(s.D - 1, 1)), g = T(1.3);
    std::vector<T> r1(n), r2(n), f1(n), f2(n);
    std::vector<T> ws(barlow_twins_workspace_size(s.N, s.D) + 8, T(-7));  // guard after the end
    const T lr = barlow_twins_loss_ref<T>(s.N, s.D, z1.data(), z2.data(), lambda, g, r1.data(), r2.data());
    const T lf = barlow_twins_loss<T>(s.N, s.D, z1.data(), z2.data(), lambda, g, f1.data(), f2.data(), ws.data());
    for (size_t i = ws.size() - 8; i < ws.size(); ++i) REQUIRE(ws[i] == T(-7));
    const double tol = std::is_same_v<T, float> ? 1e-4 : 1e-10;
    CHECK(std::fabs(double(lf) - double(lr)) <= tol * (1 + std::fabs(double(lr))));
    double scale = 0;  // gradients compared relative to their largest magnitude
    for (T v : r1) scale = std::max(scale, std::fabs(double(v)));
    for (T v : r2) scale = std::max(scale, std::fabs(double(v)));
    check_close(f1, r1, tol * scale, tol, "dz1");
    check_close(f2, r2, tol * scale, tol, "dz2");
  }
}

TEST_CASE("barlow_twins: batch of one and gradient scaling", "[barlow]") {
  // N = 1: every column has zero variance, so ẑ = 0, C = 0 and loss = D; the BN backward of a
  // single sample is zero.
  const std::vector<double> z1{1, 2, 3}, z2{-1, 0, 5};
  for (bool fast : {false, true}) {
    std::vector<double> dz1, dz2, e1, e2;
    CHECK(bt_loss(fast, 1, 3, z1, z2, 0.0051, 1, &dz1, &dz2) == Approx(3.0));
    for (double v : dz1) CHECK(v == 0);
    const auto x1 = randv<double>(12, 121), x2 = randv<double>(12, 122);
    bt_loss(fast, 4, 3, x1, x2, 0.0051, 1, &dz1, &dz2);
    bt_loss(fast, 4, 3, x1, x2, 0.0051, -2.5, &e1, &e2);
    for (size_t i = 0; i < 12; ++i) CHECK(e1[i] == Approx(-2.5 * dz1[i]).epsilon(1e-12));
  }
}

// ----------------------------------------------------------------------------------------------
// NT-Xent

namespace {

double ntx(bool fast, int64_t N, int64_t D, const std::vector<double>& z, double tau,
           double g = 1, std::vector<double>* dz = nullptr) {
  if (!fast) return nt_xent_loss_ref<double>(N, D, z.data(), tau, g, dz ? (dz->resize(z.size()), dz->data()) : nullptr);
  std::vector<double> saved(nt_xent_saved_size(N));
  const double loss = nt_xent_forward<double>(N, D, z.data(), tau, saved.data());
  if (dz) {
    dz->resize(z.size());
    nt_xent_backward<double>(N, D, z.data(), tau, saved.data(), g, dz->data());
  }
  return loss;
}

}  // namespace

TEST_CASE("nt_xent: hand cases with one-hot embeddings", "[nt_xent]") {
  // N = 2, D = 4, z = [e0, e1, e0, e1] (z1 = z2): each row meets its positive with s = 1/τ
  // and its two negatives with s = 0, so every ℓ_i = −log(e^{1/τ} / (e^{1/τ} + 2)).
  // Swapping the second view, z = [e0, e1, e1, e0]: the positive has s = 0 and one negative
  // s = 1/τ, so ℓ_i = log(2 + e^{1/τ}) (this catches a wrong pos(i)).
  const std::vector<double> same{1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0};
  const std::vector<double> swapped{1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0};
  for (double tau : {0.5, 0.1})
    for (bool fast : {false, true}) {
      const double e = std::exp(1 / tau);
      // −log(e / (e + 2)) = log1p(2/e); the loss is lse − s_pos, a difference of terms ≈ 1/τ.
      CHECK(ntx(fast, 2, 4, same, tau) == Approx(std::log1p(2 / e)).margin(1e-13 / tau));
      CHECK(ntx(fast, 2, 4, swapped, tau) == Approx(std::log(2 + e)).epsilon(1e-13));
    }
}

TEST_CASE("nt_xent: gradients match finite differences", "[nt_xent][fd]") {
  struct S { int64_t N, D; double tau; };
  for (const S s : {S{1, 3, 0.5}, S{2, 4, 0.5}, S{3, 5, 0.1}, S{40, 3, 0.2}})
    for (bool fast : {false, true}) {
      INFO("N " << s.N << " D " << s.D << " tau " << s.tau << " fast " << fast);
      // Unit-norm-ish rows, but the formula holds for any z, so no renormalization is needed.
      auto z = randv<double>(2 * s.N * s.D, 131);
      l2_normalize_forward_ref<double>(2 * s.N, s.D, z.data(), 1e-12, z.data());
      const double g = 0.7;
      std::vector<double> dz;
      ntx(fast, s.N, s.D, z, s.tau, g, &dz);
      check_fd([&](const auto& v) { return g * ntx(fast, s.N, s.D, v, s.tau); }, z, dz, "dz");
    }
}

TEMPLATE_TEST_CASE("nt_xent: fast matches reference", "[nt_xent]", float, double) {
  using T = TestType;
  struct S { int64_t N, D; double tau; };
  // 2N spans one partial row block up to several blocks and column tiles (64 × 256);
  // τ = 0.01 gives logits up to 100, which overflow exp in float without the max subtraction.
  for (const S s : {S{1, 4, 0.5}, S{3, 33, 0.5}, S{37, 16, 0.1}, S{100, 128, 0.5},
                    S{256, 128, 0.1}, S{300, 64, 0.01}}) {
    INFO("N " << s.N << " D " << s.D << " tau " << s.tau);
    const int64_t M = 2 * s.N;
    auto z = randv<T>(M * s.D, 141);
    l2_normalize_forward_ref<T>(M, s.D, z.data(), T(1e-12), z.data());
    for (int64_t i = 0; i < s.N / 2; ++i)  // some positives aligned, as after training
      for (int64_t d = 0; d < s.D; ++d) z[(i + s.N) * s.D + d] = z[i * s.D + d];
    const int64_t n_saved = nt_xent_saved_size(s.N);
    std::vector<T> dr(z.size()), df(z.size()), saved(n_saved + 4, T(-7));
    const T g = T(0.9);
    const T lr = nt_xent_loss_ref<T>(s.N, s.D, z.data(), T(s.tau), g, dr.data());
    const T lf = nt_xent_forward<T>(s.N, s.D, z.data(), T(s.tau), saved.data());
    for (int64_t i = n_saved; i < n_saved + 4; ++i) REQUIRE(saved[i] == T(-7));
    nt_xent_backward<T>(s.N, s.D, z.data(), T(s.tau), saved.data(), g, df.data());
    REQUIRE(std::isfinite(double(lf)));
    const double tol = std::is_same_v<T, float> ? 2e-5 / s.tau : 1e-11;
    CHECK(std::fabs(double(lf) - double(lr)) <= tol * (1 + std::fabs(double(lr))));
    double scale = 0;
    for (T v : dr) scale = std::max(scale, std::fabs(double(v)));
    check_close(df, dr, tol * scale, tol, "dz");
  }
}

// ----------------------------------------------------------------------------------------------
// BYOL / SimSiam

TEST_CASE("byol: hand cases", "[byol]") {
  // Row 0: t = 3p (cos 1, loss 0); row 1: t = −p (cos −1, loss 4); row 2: orthogonal (loss 2).
  const std::vector<double> p{1, 2, 0, 1, -1, 2, 1, 0, 0}, t{3, 6, 0, -1, 1, -2, 0, 5, 0};
  for (bool fast : {false, true}) {
    auto f = fast ? byol_loss<double> : byol_loss_ref<double>;
    CHECK(f(1, 3, p.data(), t.data(), 1, nullptr) == Approx(0).margin(1e-15));
    CHECK(f(1, 3, p.data() + 3, t.data() + 3, 1, nullptr) == Approx(4).epsilon(1e-15));
    CHECK(f(1, 3, p.data() + 6, t.data() + 6, 1, nullptr) == Approx(2).epsilon(1e-15));
    std::vector<double> dp(9);
    CHECK(f(3, 3, p.data(), t.data(), 1, dp.data()) == Approx(2).epsilon(1e-15));  // mean
    // At cos = ±1 the gradient vanishes (t̂ − p̂ c = 0); for the orthogonal row it is
    // −(2/3) t̂ / ||p|| = [0, −2/3, 0].
    for (int i = 0; i < 6; ++i) CHECK(dp[i] == Approx(0).margin(1e-15));
    CHECK(dp[7] == Approx(-2.0 / 3).epsilon(1e-15));
  }
}

TEST_CASE("byol: gradient wrt p matches finite differences (t is a constant)", "[byol][fd]") {
  const int64_t N = 4, D = 5;
  auto p = randv<double>(N * D, 151), t = randv<double>(N * D, 152);
  for (int d = 0; d < D; ++d) p[3 * D + d] = 1e-13 * (d + 1);  // row 3 lies below eps
  for (bool fast : {false, true}) {
    auto f = fast ? byol_loss<double> : byol_loss_ref<double>;
    std::vector<double> dp(N * D);
    f(N, D, p.data(), t.data(), 0.7, dp.data());
    // Rows 0..2 by finite differences (a step of 1e-6 would lift row 3 out of its regime).
    auto L = [&](const std::vector<double>& head) {
      std::vector<double> v = p;
      std::copy(head.begin(), head.end(), v.begin());
      return 0.7 * f(N, D, v.data(), t.data(), 1, nullptr);
    };
    check_fd(L, {p.begin(), p.begin() + 3 * D}, {dp.begin(), dp.begin() + 3 * D}, "dp");
    // Below eps, p̂ = p/eps is linear in p: dp = −(2g/N) t̂ / eps.
    double tn = 0;
    for (int d = 0; d < D; ++d) tn += t[3 * D + d] * t[3 * D + d];
    tn = std::sqrt(tn);
    for (int d = 0; d < D; ++d)
      CHECK(dp[3 * D + d] == Approx(-2 * 0.7 / N * t[3 * D + d] / tn / 1e-12).epsilon(1e-12));
  }
}

TEMPLATE_TEST_CASE("byol: fast matches reference", "[byol]", float, double) {
  using T = TestType;
  struct S { int64_t N, D; };
  for (const S s : {S{1, 1}, S{1, 256}, S{7, 3}, S{256, 256}, S{128, 2048}}) {
    const auto p = randv<T>(s.N * s.D, 161), t = randv<T>(s.N * s.D, 162);
    std::vector<T> dr(p.size()), df(p.size());
    const T lr = byol_loss_ref<T>(s.N, s.D, p.data(), t.data(), T(0.5), dr.data());
    const T lf = byol_loss<T>(s.N, s.D, p.data(), t.data(), T(0.5), df.data());
    const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
    CHECK(std::fabs(double(lf) - double(lr)) <= tol * (1 + std::fabs(double(lr))));
    check_close(df, dr, tol, tol * 10, "dp");
  }
}
