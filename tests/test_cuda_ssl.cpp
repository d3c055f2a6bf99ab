// The fused SSL loss kernels (kernels/cuda/ssl_loss_launchers.h: barlow_twins.cu, nt_xent.cu, byol.cu)
// run by the SIMT emulator against the CPU references in double (bt::cpu::*_ref), loss and
// gradients, under two schedules (forward, random:1) on shapes that are not multiples of the
// 64-wide tiles. Every output and the workspace (at exactly its documented size) carry a guard
// zone of sentinels that must survive; the results must be bitwise identical under both
// schedules (the reductions have a fixed order).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cpu/ssl_loss_kernels.h"
#include "kernels/cuda/ssl_loss_launchers.h"
#include "kernels/simt/simt.h"
#include "tests/support/guarded_output.h"
#include "tests/support/normalize_rows.h"
#include "tests/support/random_vector.h"

using bt::cuda::Simt;

// These tests run the kernels over std::vector buffers (host memory): the engine and the
// kernel-case registry pass emulated device memory, whose checks tests/test_simt_memory.cpp covers.
static const simt::testing::AllowHostPointers kAllowHostPointers;

namespace {

using bt::testing::normalize_rows;

const char* const kSchedules[] = {"forward", "reverse", "random:1"};
using Out = bt::testing::GuardedOutput<float>;

// randv (tests/support/random_vector.h) with this file's default range.
std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  return bt::testing::randv<float>(n, seed, lo, hi);
}

// |got − ref| <= atol + rtol·|ref| for every finite ref; reports the first mismatches.
void check_close(const std::string& what, const float* got, const std::vector<double>& ref,
                 double atol, double rtol) {
  size_t bad = 0;
  std::ostringstream first;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(ref[i])) continue;
    const double err = std::abs(double(got[i]) - ref[i]);
    if (!(err <= atol + rtol * std::abs(ref[i]))) {
      if (bad < 5) first << "  [" << i << "] got " << got[i] << " want " << ref[i] << "\n";
      ++bad;
    }
  }
  INFO(what << ": " << bad << " of " << ref.size() << " mismatches (atol " << atol << ", rtol "
            << rtol << ")\n"
            << first.str());
  CHECK(bad == 0);
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

struct Shape {
  int64_t N, D;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Barlow Twins

TEST_CASE("cuda ssl (simt): barlow_twins loss and gradients match the double reference",
          "[cuda][simt][ssl][barlow]") {
  // One 64×64 tile, ragged tiles, exact tiles, a batch of one (ẑ = 0, loss = D), two row tiles.
  const Shape shapes[] = {{7, 13}, {33, 70}, {64, 128}, {1, 5}, {70, 65}};
  uint32_t seed = 100;
  for (const Shape s : shapes) {
    const size_t n = size_t(s.N * s.D);
    // Columns with different means and scales, so the BN prologue matters.
    auto z1 = random_vec(n, ++seed, -2.0f, 3.0f), z2 = random_vec(n, ++seed);
    for (size_t k = 0; k < n; ++k) z2[k] = z2[k] * float(1 + k % 3) + float(k % 5);
    const float lambda = s.D == 65 ? 1.0f / float(s.D - 1) : 0.0051f, g = 0.7f;
    std::vector<double> r1(n), r2(n);
    const double ref = bt::cpu::barlow_twins_loss_ref<double>(
        s.N, s.D, to_double(z1).data(), to_double(z2).data(), lambda, g, r1.data(), r2.data());
    const double scale = std::max(max_abs(r1), max_abs(r2));
    std::vector<float> first_loss, first_dz;
    for (const char* sched : kSchedules) {
      simt::ScopedSchedule schedule(sched);
      std::ostringstream tag;
      tag << "barlow_twins " << sched << " N=" << s.N << " D=" << s.D;
      INFO(tag.str());
      Out dz1(n), dz2(n), ws(size_t(bt::cuda::barlow_twins_workspace_size(s.N, s.D)), 0.0f);
      const float loss = bt::cuda::barlow_twins_loss<Simt>(
          s.N, s.D, z1.data(), z2.data(), lambda, g, dz1.data(), dz2.data(), ws.data(), nullptr);
      CHECK(std::abs(loss - ref) <= 1e-5 * (1 + std::abs(ref)));
      check_close(tag.str() + " dz1", dz1.data(), r1, 2e-5 * scale, 1e-4);
      check_close(tag.str() + " dz2", dz2.data(), r2, 2e-5 * scale, 1e-4);
      CHECK(dz1.guard_intact());
      CHECK(dz2.guard_intact());
      CHECK(ws.guard_intact());
      std::vector<float> dz = dz1.payload();
      const std::vector<float> d2 = dz2.payload();
      dz.insert(dz.end(), d2.begin(), d2.end());
      if (first_dz.empty()) {
        first_loss = {loss}, first_dz = dz;
      } else {  // fixed-order reductions: bitwise the same under another schedule
        CHECK(loss == first_loss[0]);
        CHECK(dz == first_dz);
      }
    }
  }
}

TEST_CASE("cuda ssl (simt): barlow_twins hand case N = 4, D = 2", "[cuda][simt][ssl][barlow]") {
  // The hand case of test_cpu_ssl_kernels: z1 columns u = [1,−1,1,−1], v = [1,1,−1,−1]; z2
  // columns u and w = u + v. With a = 1/sqrt(1 + eps), b = 1/sqrt(2 + eps):
  // C = [[a², ab], [0, ab]], loss = (1 − a²)² + (1 − ab)² + λ (ab)² ≈ 0.0884 — the classic bugs
  // (the N×N sample matrix, a dropped diagonal term ≈ 0.00255) give other values.
  const double eps = bt::cpu::kBarlowTwinsBnEps, a = 1 / std::sqrt(1 + eps),
               b = 1 / std::sqrt(2 + eps), lambda = 0.0051;
  const std::vector<float> z1{1, 1, -1, 1, 1, -1, -1, -1}, z2{1, 2, -1, 0, 1, 0, -1, -2};
  const double expect = std::pow(1 - a * a, 2) + std::pow(1 - a * b, 2) + lambda * a * b * a * b;
  std::vector<float> dz1(8), dz2(8), ws(size_t(bt::cuda::barlow_twins_workspace_size(4, 2)));
  const float loss = bt::cuda::barlow_twins_loss<Simt>(
      4, 2, z1.data(), z2.data(), float(lambda), 1.0f, dz1.data(), dz2.data(), ws.data(), nullptr);
  CHECK(loss == Approx(expect).epsilon(1e-5));
}

TEST_CASE("cuda ssl (simt): barlow_twins_mask_sums, one pass over C", "[cuda][simt][ssl][barlow]") {
  // C = [[0.9, 0.1, −0.2], [0.3, 1.1, 0], [0.5, −0.4, 0.7]]:
  //   on  = (1 − 0.9)² + (1 − 1.1)² + (1 − 0.7)² = 0.01 + 0.01 + 0.09 = 0.11
  //   off = 0.1² + 0.2² + 0.3² + 0² + 0.5² + 0.4² = 0.01 + 0.04 + 0.09 + 0.25 + 0.16 = 0.55
  const std::vector<float> C{0.9f, 0.1f, -0.2f, 0.3f, 1.1f, 0.0f, 0.5f, -0.4f, 0.7f};
  for (const char* sched : kSchedules) {
    simt::ScopedSchedule schedule(sched);
    INFO(sched);
    Out ws(size_t(bt::cuda::barlow_twins_mask_workspace_size(3)), 0.0f);
    const auto sums = bt::cuda::barlow_twins_mask_sums<Simt>(3, C.data(), ws.data(), nullptr);
    CHECK(sums.on == Approx(0.11).epsilon(1e-6));
    CHECK(sums.off == Approx(0.55).epsilon(1e-6));
    CHECK(ws.guard_intact());
  }
  // More rows than the emulator's 64 blocks: each block takes several rows.
  const int64_t D = 150;
  const auto big = random_vec(size_t(D * D), 7, -1.5f, 1.5f);
  double on = 0, off = 0;
  for (int64_t i = 0; i < D; ++i)
    for (int64_t j = 0; j < D; ++j) {
      const double v = big[size_t(i * D + j)];
      if (i == j)
        on += (1 - v) * (1 - v);
      else
        off += v * v;
    }
  Out ws(size_t(bt::cuda::barlow_twins_mask_workspace_size(D)), 0.0f);
  const auto sums = bt::cuda::barlow_twins_mask_sums<Simt>(D, big.data(), ws.data(), nullptr);
  CHECK(sums.on == Approx(on).epsilon(1e-5));
  CHECK(sums.off == Approx(off).epsilon(1e-5));
  CHECK(ws.guard_intact());
}

// ---------------------------------------------------------------------------------------------
// NT-Xent

TEST_CASE("cuda ssl (simt): nt_xent forward and backward match the double reference",
          "[cuda][simt][ssl][nt_xent]") {
  struct S {
    int64_t N, D;
    double tau;
  };
  // 2N = 2 .. 200 rows: one partial tile, two tiles split over two blocks of columns, four
  // tiles in two splits of two; D = 130 takes two 128-wide chunks of dz in the backward (with
  // one column split at N = 5, two at N = 40).
  const S shapes[] = {{7, 13, 0.5},   {33, 70, 0.1},  {64, 128, 0.5}, {5, 130, 0.1},
                      {40, 130, 0.5}, {100, 16, 0.2}, {1, 3, 0.5}};
  uint32_t seed = 200;
  for (const S s : shapes) {
    const int64_t M = 2 * s.N;
    const size_t n = size_t(M * s.D);
    auto z = random_vec(n, ++seed);
    for (int64_t i = 0; i < s.N / 2; ++i)  // some positives nearly aligned, as after training
      for (int64_t d = 0; d < s.D; ++d) {
        const size_t k = size_t(i * s.D + d), kp = size_t((i + s.N) * s.D + d);
        z[kp] = z[k] + 0.05f * z[kp];
      }
    normalize_rows(z, M, s.D);
    const std::vector<double> zd = to_double(z);
    const double g = 0.9;
    // saved_ref: the rows' lse and q, from the CPU kernel in double (the same layout).
    std::vector<double> dz_ref(n), saved_ref(size_t(bt::cpu::nt_xent_saved_size(s.N)));
    const double ref =
        bt::cpu::nt_xent_loss_ref<double>(s.N, s.D, zd.data(), s.tau, g, dz_ref.data());
    bt::cpu::nt_xent_forward<double>(s.N, s.D, zd.data(), s.tau, saved_ref.data());
    const double scale = max_abs(dz_ref), tol = 2e-6 / s.tau;
    std::vector<float> first;
    for (const char* sched : kSchedules) {
      simt::ScopedSchedule schedule(sched);
      std::ostringstream tag;
      tag << "nt_xent " << sched << " N=" << s.N << " D=" << s.D << " tau=" << s.tau;
      INFO(tag.str());
      Out saved(size_t(bt::cuda::nt_xent_saved_size(s.N))), dz(n),
          ws(size_t(bt::cuda::nt_xent_workspace_size(s.N, s.D)), 0.0f);
      const float loss = bt::cuda::nt_xent_forward<Simt>(s.N, s.D, z.data(), float(s.tau),
                                                         saved.data(), ws.data(), nullptr);
      bt::cuda::nt_xent_backward<Simt>(s.N, s.D, z.data(), float(s.tau), saved.data(), float(g),
                                       dz.data(), ws.data(), nullptr);
      CHECK(std::abs(loss - ref) <= tol * (1 + std::abs(ref)));
      check_close(tag.str() + " lse, q", saved.data(), saved_ref, tol, tol);
      check_close(tag.str() + " dz", dz.data(), dz_ref, tol * scale, tol);
      CHECK(saved.guard_intact());
      CHECK(dz.guard_intact());
      CHECK(ws.guard_intact());
      std::vector<float> all = dz.payload();
      all.push_back(loss);
      for (float v : saved.payload()) all.push_back(v);
      if (first.empty())
        first = all;
      else
        CHECK(all == first);  // bitwise, whatever the schedule
    }
  }
}

TEST_CASE("cuda ssl (simt): nt_xent keeps exp in range at tau = 0.01",
          "[cuda][simt][ssl][nt_xent]") {
  // Logits up to 100: exp overflows float without the running max subtracted.
  const int64_t N = 40, D = 8, M = 2 * N;
  auto z = random_vec(size_t(M * D), 5);
  normalize_rows(z, M, D);
  std::vector<double> zd = to_double(z);
  const double ref = bt::cpu::nt_xent_loss_ref<double>(N, D, zd.data(), 0.01, 1.0, nullptr);
  std::vector<float> saved(size_t(bt::cuda::nt_xent_saved_size(N))),
      ws(size_t(bt::cuda::nt_xent_workspace_size(N, D)));
  const float loss =
      bt::cuda::nt_xent_forward<Simt>(N, D, z.data(), 0.01f, saved.data(), ws.data(), nullptr);
  REQUIRE(std::isfinite(loss));
  CHECK(std::abs(loss - ref) <= 2e-3 * (1 + std::abs(ref)));
}

// ---------------------------------------------------------------------------------------------
// BYOL

TEST_CASE("cuda ssl (simt): byol loss and gradient match the double reference",
          "[cuda][simt][ssl][byol]") {
  // More rows than 64 blocks × 8 warps take a second lap of the row loop (N = 600).
  const Shape shapes[] = {{7, 13}, {33, 70}, {64, 128}, {5, 300}, {1, 1}, {600, 20}};
  uint32_t seed = 300;
  for (const Shape s : shapes) {
    const size_t n = size_t(s.N * s.D);
    auto p = random_vec(n, ++seed), t = random_vec(n, ++seed);
    if (s.N >= 3)
      for (int64_t d = 0; d < s.D; ++d) {
        p[size_t(1 * s.D + d)] = 1e-15f * float(d % 4 + 1);  // ||p|| < 1e-13: below eps
        t[size_t(2 * s.D + d)] = 0.0f;                       // t = 0: cos 0
      }
    const double g = 0.5;
    std::vector<double> dp_ref(n);
    const double ref = bt::cpu::byol_loss_ref<double>(s.N, s.D, to_double(p).data(),
                                                      to_double(t).data(), g, dp_ref.data());
    for (const char* sched : kSchedules) {
      simt::ScopedSchedule schedule(sched);
      std::ostringstream tag;
      tag << "byol " << sched << " N=" << s.N << " D=" << s.D;
      INFO(tag.str());
      Out dp(n), ws(size_t(bt::cuda::byol_workspace_size(s.N, s.D)), 0.0f);
      const float loss = bt::cuda::byol_loss<Simt>(s.N, s.D, p.data(), t.data(), float(g),
                                                   dp.data(), ws.data(), nullptr);
      CHECK(std::abs(loss - ref) <= 1e-6 * (1 + std::abs(ref)));
      check_close(tag.str() + " dp", dp.data(), dp_ref, 1e-6, 1e-5);
      CHECK(dp.guard_intact());
      CHECK(ws.guard_intact());
      // Loss only (dp = nullptr): the same loss.
      CHECK(bt::cuda::byol_loss<Simt>(s.N, s.D, p.data(), t.data(), float(g), nullptr, ws.data(),
                                      nullptr) == loss);
    }
  }
}

// ---------------------------------------------------------------------------------------------

TEST_CASE("cuda ssl (simt): bad sizes and a null workspace are rejected", "[cuda][simt][ssl]") {
  std::vector<float> x(16), y(16), ws(4096);
  CHECK_THROWS_AS(bt::cuda::barlow_twins_loss<Simt>(2, 2, x.data(), x.data(), 0.1f, 1.0f, y.data(),
                                                    y.data(), nullptr, nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(bt::cuda::barlow_twins_loss<Simt>(0, 2, x.data(), x.data(), 0.1f, 1.0f, y.data(),
                                                    y.data(), ws.data(), nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      bt::cuda::nt_xent_forward<Simt>(2, 0, x.data(), 0.5f, y.data(), ws.data(), nullptr),
      std::invalid_argument);
  CHECK_THROWS_AS(
      bt::cuda::byol_loss<Simt>(2, 2, x.data(), x.data(), 1.0f, y.data(), nullptr, nullptr),
      std::invalid_argument);
}
