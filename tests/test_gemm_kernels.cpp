// bt::cpu::gemm (OpenBLAS sgemm / dgemm) against bt::cpu::gemm_ref: a hand-computed case for
// the reference, then every matmul case of the kernel-case registry (all four transpose
// combinations, ragged sizes, M/N/K = 1, beta 0 and 1, padded rows). Also checks that the
// registry's checker itself catches wrong values and out-of-bounds writes.
#include <catch2/catch.hpp>
#include <cmath>

#include "kernels/cases/check.h"
#include "kernels/cpu/gemm.h"

using namespace bt::cases;

TEST_CASE("gemm_ref: hand-computed 2x3 · 3x2", "[gemm]") {
  // A = [1 2 3; 4 5 6], B = [7 8; 9 10; 11 12]
  // A·B = [1·7+2·9+3·11  1·8+2·10+3·12; 4·7+5·9+6·11  4·8+5·10+6·12] = [58 64; 139 154]
  const double A[6] = {1, 2, 3, 4, 5, 6}, At[6] = {1, 4, 2, 5, 3, 6};
  const double B[6] = {7, 8, 9, 10, 11, 12}, Bt[6] = {7, 9, 11, 8, 10, 12};
  const double want[4] = {58, 64, 139, 154};
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    double C[4] = {NAN, NAN, NAN, NAN};  // beta = 0: C is not read
    bt::cpu::gemm_ref(ta, tb, 2, 2, 3, 1.0, ta ? At : A, ta ? 2 : 3, tb ? Bt : B, tb ? 3 : 2, 0.0, C, 2);
    for (int i = 0; i < 4; ++i) CHECK(C[i] == want[i]);
  }
  // alpha = 2, beta = 1 onto C = 1: 2·[58 64; 139 154] + 1
  float C[4] = {1, 1, 1, 1};
  const float Af[6] = {1, 2, 3, 4, 5, 6}, Bf[6] = {7, 8, 9, 10, 11, 12};
  bt::cpu::gemm_ref(false, false, 2, 2, 3, 2.0f, Af, 3, Bf, 2, 1.0f, C, 2);
  CHECK(C[0] == 117);
  CHECK(C[1] == 129);
  CHECK(C[2] == 279);
  CHECK(C[3] == 309);
}

TEST_CASE("gemm: every registry matmul case matches gemm_ref", "[gemm]") {
  const std::vector<KernelCase> cases = collect_cases({Suite::test}, {"matmul"});
  REQUIRE(cases.size() >= 100);
  for (const KernelCase& c : cases) {
    const CaseData ref = run_version(c, kReference);
    for (const std::string& v : c.versions) {
      const CheckResult r = check_version(c, v, ref);
      INFO(c.name << " [" << v << "]\n" << r.message);
      CHECK(r.ok);
      CHECK(r.checked > 0);
    }
  }
}

TEST_CASE("kernel-case checker catches a wrong element and a write past the end", "[gemm][cases]") {
  const std::vector<KernelCase> cases = collect_cases({Suite::test, true}, {"matmul"});
  const KernelCase& c = cases.front();
  const CaseData ref = run_version(c, kReference);

  CaseData wrong = run_version(c, "blas");
  Buffer& C = wrong.outputs[0];
  C.set(C.numel() - 1, C.get(C.numel() - 1) + 0.01);
  const CheckResult r1 = compare(wrong, ref, c.atol, c.rtol);
  CHECK_FALSE(r1.ok);
  CHECK(r1.bad == 1);
  REQUIRE(r1.first.size() == 1);
  CHECK(r1.first[0].where == C.index_str(C.numel() - 1));

  CaseData past_end = run_version(c, "blas");
  Buffer& P = past_end.outputs[0];
  P.data<float>()[P.numel()] = 0;  // one element past the end: inside the guard zone
  const CheckResult r2 = compare(past_end, ref, c.atol, c.rtol);
  CHECK_FALSE(r2.ok);
  CHECK(r2.broken_guards == std::vector<std::string>{"C"});
}
