// The nvcc build of the SSL loss kernels (bt_cuda_kernels; kernels/cuda/ssl_loss_launchers.h): without
// a device or driver every launcher throws simt::Error "no CUDA device" (never a crash); with
// one, the three losses run on it against the double references (bt::cpu::*_ref). The kernels'
// logic is tested on the emulator in test_cuda_ssl.cpp (this file cannot include simt.h, whose
// emulator types clash with the CUDA runtime headers). Built only when BT_CUDA is on.
#include <catch2/catch.hpp>

#if defined(BT_HAVE_CUDA_KERNELS)

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cpu/ssl_loss_kernels.h"
#include "kernels/cuda/ssl_loss_launchers.h"
#include "tests/support/device_buffer.h"
#include "tests/support/normalize_rows.h"
#include "tests/support/random_vector.h"
#include "tests/support/require_gpu.h"

namespace {

using bt::testing::normalize_rows;

using bt::testing::DeviceBuffer;

// randv (tests/support/random_vector.h) with this file's default range.
std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  return bt::testing::randv<float>(n, seed, lo, hi);
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

// |got − ref| <= atol + rtol·|ref| for every element; reports the first mismatches.
void check_close(const std::string& what, const std::vector<float>& got,
                 const std::vector<double>& ref, double atol, double rtol) {
  REQUIRE(got.size() == ref.size());
  size_t bad = 0;
  std::ostringstream first;
  for (size_t i = 0; i < ref.size(); ++i)
    if (!(std::abs(double(got[i]) - ref[i]) <= atol + rtol * std::abs(ref[i]))) {
      if (bad++ < 5) first << "  [" << i << "] got " << got[i] << " want " << ref[i] << "\n";
    }
  INFO(what << ": " << bad << " of " << ref.size() << " mismatches\n" << first.str());
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("cuda ssl (gpu): launchers without a device throw 'no CUDA device'", "[cuda][ssl]") {
  if (bt::cuda::device_available()) {
    SUCCEED("a CUDA device is present");
    return;
  }
  using bt::cuda::Gpu;
  float dummy[8] = {};  // never dereferenced: the first launch fails
  auto no_device = Catch::Matchers::Contains("no CUDA device");
  CHECK_THROWS_WITH(bt::cuda::barlow_twins_loss<Gpu>(4, 4, dummy, dummy, 0.1f, 1.0f, dummy, dummy,
                                                     dummy, nullptr),
                    no_device);
  CHECK_THROWS_WITH(bt::cuda::barlow_twins_mask_sums<Gpu>(4, dummy, dummy, nullptr), no_device);
  CHECK_THROWS_WITH(bt::cuda::nt_xent_forward<Gpu>(2, 4, dummy, 0.5f, dummy, dummy, nullptr),
                    no_device);
  CHECK_THROWS_WITH(
      bt::cuda::nt_xent_backward<Gpu>(2, 4, dummy, 0.5f, dummy, 1.0f, dummy, dummy, nullptr),
      no_device);
  CHECK_THROWS_WITH(bt::cuda::byol_loss<Gpu>(2, 4, dummy, dummy, 1.0f, dummy, dummy, nullptr),
                    no_device);
}

TEST_CASE("cuda ssl (gpu): the three losses on the device match the double references",
          "[cuda][ssl]") {
  if (!bt::cuda::device_available()) {
    bt::testing::no_gpu_here();
    return;
  }
  using bt::cuda::Gpu;
  const int64_t N = 70, D = 130;
  const size_t n = size_t(N * D);
  const auto a = random_vec(n, 401, -2.0f, 3.0f), b = random_vec(n, 402);
  {  // Barlow Twins
    std::vector<double> r1(n), r2(n);
    const double ref = bt::cpu::barlow_twins_loss_ref<double>(
        N, D, to_double(a).data(), to_double(b).data(), 0.0051, 0.7, r1.data(), r2.data());
    DeviceBuffer z1(a), z2(b), dz1(n), dz2(n),
        ws(size_t(bt::cuda::barlow_twins_workspace_size(N, D)));
    const float loss = bt::cuda::barlow_twins_loss<Gpu>(N, D, z1.p, z2.p, 0.0051f, 0.7f, dz1.p,
                                                        dz2.p, ws.p, nullptr);
    CHECK(std::abs(loss - ref) <= 1e-5 * (1 + std::abs(ref)));
    const double scale = std::max(max_abs(r1), max_abs(r2));
    check_close("gpu barlow_twins dz1", dz1.host(), r1, 2e-5 * scale, 1e-4);
    check_close("gpu barlow_twins dz2", dz2.host(), r2, 2e-5 * scale, 1e-4);
  }
  {  // NT-Xent on z = [a; b] (2N = 140 rows), normalized
    std::vector<float> zh = a;
    zh.insert(zh.end(), b.begin(), b.end());
    normalize_rows(zh, 2 * N, D);
    std::vector<double> dz_ref(zh.size());
    const double ref =
        bt::cpu::nt_xent_loss_ref<double>(N, D, to_double(zh).data(), 0.2, 0.9, dz_ref.data());
    DeviceBuffer z(zh), saved(size_t(bt::cuda::nt_xent_saved_size(N))), dz(zh.size()),
        ws(size_t(bt::cuda::nt_xent_workspace_size(N, D)));
    const float loss = bt::cuda::nt_xent_forward<Gpu>(N, D, z.p, 0.2f, saved.p, ws.p, nullptr);
    bt::cuda::nt_xent_backward<Gpu>(N, D, z.p, 0.2f, saved.p, 0.9f, dz.p, ws.p, nullptr);
    const double tol = 2e-6 / 0.2;
    CHECK(std::abs(loss - ref) <= tol * (1 + std::abs(ref)));
    check_close("gpu nt_xent dz", dz.host(), dz_ref, tol * max_abs(dz_ref), tol);
  }
  {  // BYOL
    std::vector<double> dp_ref(n);
    const double ref = bt::cpu::byol_loss_ref<double>(N, D, to_double(a).data(),
                                                      to_double(b).data(), 0.5, dp_ref.data());
    DeviceBuffer p(a), t(b), dp(n), ws(size_t(bt::cuda::byol_workspace_size(N, D)));
    const float loss = bt::cuda::byol_loss<Gpu>(N, D, p.p, t.p, 0.5f, dp.p, ws.p, nullptr);
    CHECK(std::abs(loss - ref) <= 1e-6 * (1 + std::abs(ref)));
    check_close("gpu byol dp", dp.host(), dp_ref, 1e-6, 1e-5);
  }
}
#endif
