// The kernel-case registry as a whole (kernels/cases): every family is listed, and every
// version of every Suite::test case of every family matches the case's reference, the CUDA
// kernels on the SIMT emulator ("simt…" versions) under two schedules (forward and random:1,
// so a missing barrier shows). GPU versions ("cuda…") appear only with a CUDA device.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/cases/check.h"
#include "kernels/cases/cuda_buffers.h"
#include "kernels/cases/families.h"
#include "kernels/simt/simt.h"
#include "tests/support/require_gpu.h"

using namespace bt::cases;

namespace {

// Every kernel family of kernels/cpu and kernels/cuda; those with CUDA kernels have simt versions.
const std::vector<std::string> kFamilies{"matmul", "conv2d",    "ssl",       "elementwise", "reduce",
                                         "batch_norm", "pool",  "normalize", "optim",       "softmax",
                                         "vicreg"};
const std::vector<std::string> kCudaFamilies{"matmul", "conv2d", "ssl",   "elementwise", "reduce",
                                             "batch_norm", "pool", "normalize", "optim", "softmax", "vicreg"};

const char* const kSchedules[] = {"forward", "random:1"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("kernel families: the registry lists every kernel family", "[cases]") {
  const std::vector<std::string> names = family_names();
  for (const std::string& f : kFamilies) {
    INFO("family " << f);
    CHECK(contains(names, f));
  }
}

TEST_CASE("kernel families: CUDA families have simt versions, cuda versions only with a device", "[cases]") {
  for (const std::string& family : family_names()) {
    bool simt = false;
    for (const KernelCase& c : collect_cases({Suite::test, true}, {family}))
      for (const std::string& v : c.versions) {
        INFO(family << " " << c.name << " [" << v << "]");
        simt |= is_simt_version(v);
        if (is_cuda_version(v)) CHECK(cuda_device_available());
        // kernel_bench labels emulator times as such
        if (is_simt_version(v)) CHECK_THAT(c.describe(v), Catch::Matchers::Contains("SIMT emulator: CPU time"));
      }
    INFO("family " << family);
    CHECK(simt == contains(kCudaFamilies, family));
  }
}

#if defined(BT_HAVE_CUDA_KERNELS)
// The nvcc build without a device (or driver): a cuda version is not listed, and running one
// anyway is a simt::Error (cudaMalloc fails), not a crash.
TEST_CASE("kernel families: a cuda version without a CUDA device throws", "[cases][cuda]") {
  if (cuda_device_available()) {
    SUCCEED("a CUDA device is present");
    return;
  }
  if (bt::testing::gpu_required()) FAIL("no CUDA device, but BT_REQUIRE_GPU=1 requires one");
  const std::vector<KernelCase> cases = collect_cases({Suite::test, true}, {"elementwise"});
  REQUIRE(!cases.empty());
  CHECK_THROWS_AS(run_version(cases.front(), "cuda"), simt::Error);
}
#endif

TEST_CASE("kernel families: every version of every test case matches its reference", "[cases][simt]") {
  for (const std::string& family : family_names()) {
    const std::vector<KernelCase> cases = collect_cases({Suite::test}, {family});
    INFO("family " << family);
    CHECK(!cases.empty());
    for (const KernelCase& c : cases) {
      const CaseData ref = run_version(c, kReference);
      CHECK(!c.versions.empty());
      for (const std::string& v : c.versions)
        for (const char* schedule : kSchedules) {
          if (!is_simt_version(v) && schedule != kSchedules[0]) continue;  // the schedule is the emulator's
          simt::ScopedSchedule scope(schedule);
          const CheckResult r = check_version(c, v, ref);
          INFO(c.name << " [" << v << (is_simt_version(v) ? std::string(", ") + schedule : "") << "] max |err| "
                      << r.max_abs_err << ", " << r.max_tol_ratio << " of tolerance\n"
                      << r.message);
          CHECK(r.ok);
          CHECK(r.checked > 0);
        }
    }
  }
}
