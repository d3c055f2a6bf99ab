// The CPU fused SSL losses (kernels/cpu/ssl_loss_kernels.h) in the regimes where float32 gradients
// lose accuracy to cancellation: NT-Xent with nearly aligned views (loss ≈ 0.02) and Barlow
// Twins with embedding means ≈ ±1000. Each fused gradient's error against a float64 reference
// must be no larger than that of the float32 composed yardstick (tests/support/ssl_numerics.h:
// a PyTorch-style float32 composition with every primitive correctly rounded).
//
// Errors (max |err| / max |ref|) before the fixes of kernels/cpu/ssl_loss_kernels.cpp, which took
// 1 − p_pos by subtraction and normalized by x·invstd − mean·invstd with a float mean:
// NT-Xent 1.0e-4 and 7.8e-5 on the two shapes (yardsticks 3.6e-6, 4.4e-6), Barlow Twins 1.4e-4
// (yardstick 2.1e-5); after: 2.3e-7, 3.6e-7 and 1.7e-6.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "kernels/cpu/ssl_loss_kernels.h"
#include "tests/support/ssl_numerics.h"

using namespace bt::testing::ssl_numerics;

TEST_CASE("ssl numerics (cpu): nt_xent with nearly aligned views beats float32 composed",
          "[nt_xent][numerics]") {
  const float tau = 0.1f;
  for (const Shape s : kNtXentShapes) {
    const int64_t N = s.N, D = s.D, M = 2 * N;
    INFO("N " << N << " D " << D);
    const std::vector<float> z = aligned_views(N, D, 0.05, 17);
    const NtXent64 ref = nt_xent_float64(N, D, z, tau);
    REQUIRE(ref.loss > 0.005);  // the regime: the positive holds ≈ 98% of each row's softmax
    REQUIRE(ref.loss < 0.05);
    {  // the reference agrees with the kernels' own double reference (an independent code)
      const std::vector<double> zd(z.begin(), z.end());
      std::vector<double> dz(zd.size());
      const double loss = bt::cpu::nt_xent_loss_ref<double>(N, D, zd.data(), tau, 1.0, dz.data());
      CHECK(std::fabs(loss - ref.loss) <= 1e-12 * ref.loss);
      CHECK(relative_error(dz, ref.dz) <= 1e-12);
    }
    const auto [yard_loss, yard_dz] = nt_xent_float32_composed(N, D, z, tau);
    const double yard_err = relative_error(yard_dz, ref.dz);

    std::vector<float> saved(size_t(bt::cpu::nt_xent_saved_size(N))), dz(size_t(M * D));
    const float loss = bt::cpu::nt_xent_forward<float>(N, D, z.data(), tau, saved.data());
    bt::cpu::nt_xent_backward<float>(N, D, z.data(), tau, saved.data(), 1.0f, dz.data());
    const double err = relative_error(dz, ref.dz);
    const double loss_err = std::fabs(loss - ref.loss) / ref.loss,
                 yard_loss_err = std::fabs(yard_loss - ref.loss) / ref.loss;
    std::printf("nt_xent cpu N=%d D=%d (loss %.4f): dz error %.3g (float32 composed %.3g), "
                "loss error %.3g (%.3g)\n",
                int(N), int(D), ref.loss, err, yard_err, loss_err, yard_loss_err);
    CHECK(err <= yard_err);
    // The loss comes back as a float: one ulp (2^-23 relative) is the floor.
    CHECK(loss_err <= std::max(yard_loss_err, 0x1p-23));
  }
}

TEST_CASE("ssl numerics (cpu): barlow_twins with embedding means near ±1000 beats float32 composed",
          "[barlow][numerics]") {
  const int64_t N = 256, D = 64;
  const float lambda = 0.0051f;
  const auto [z1, z2] = offset_views(N, D, 1000, 23);
  const BarlowTwins64 ref = barlow_twins_float64(N, D, z1, z2, lambda);
  {  // the reference agrees with the kernels' own double reference (an independent code)
    const std::vector<double> a(z1.begin(), z1.end()), b(z2.begin(), z2.end());
    std::vector<double> d1(a.size()), d2(a.size());
    const double loss = bt::cpu::barlow_twins_loss_ref<double>(N, D, a.data(), b.data(), lambda,
                                                               1.0, d1.data(), d2.data());
    CHECK(std::fabs(loss - ref.loss) <= 1e-10 * ref.loss);
    CHECK(relative_error(d1, ref.dz1) <= 1e-9);
    CHECK(relative_error(d2, ref.dz2) <= 1e-9);
  }
  const auto [y1, y2] = barlow_twins_float32_composed(N, D, z1, z2, lambda);
  const double yard_err = std::max(relative_error(y1, ref.dz1), relative_error(y2, ref.dz2));

  std::vector<float> dz1(z1.size()), dz2(z2.size());
  const float loss = bt::cpu::barlow_twins_loss<float>(N, D, z1.data(), z2.data(), lambda, 1.0f,
                                                       dz1.data(), dz2.data(), nullptr);
  const double err = std::max(relative_error(dz1, ref.dz1), relative_error(dz2, ref.dz2));
  std::printf("barlow_twins cpu (loss %.4f): dz error %.3g (float32 composed %.3g)\n", ref.loss,
              err, yard_err);
  CHECK(err <= yard_err);
  CHECK(std::fabs(loss - ref.loss) <= 1e-5 * ref.loss);
}
