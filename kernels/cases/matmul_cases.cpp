// matmul cases: C (M, N) = alpha·op(A)·op(B) + beta·C, row-major with optional row padding
// (ld > width), against bt::cpu::gemm_ref. Versions:
//   blas                     bt::cpu::gemm (OpenBLAS sgemm / dgemm)
//   bf16                     f32, alpha 1, beta 0: bt::cpu::gemm_bf16 (oneDNN matmul on bf16
//                            copies of A and B, float32 sums), to within bf16 rounding
//   simt-naive, simt-tiled   f32: bt::cuda::gemm_v1_naive / gemm_v2_tiled (kernels/cuda/gemm.h)
//                            on the SIMT emulator, at emulator-sized shapes
//   cuda-naive, cuda-tiled   the same kernels on a CUDA device, when there is one
//   cuda-cublas              f32: bt::cuda::cublas_sgemm (cuBLAS), on a CUDA device
#include <cmath>
#include <stdexcept>
#include <type_traits>

#include "kernels/cases/cuda_buffers.h"
#include "kernels/cases/families.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_bf16.h"
#include "kernels/cuda/cublas_gemm.h"
#include "kernels/cuda/gemm.h"

namespace bt::cases {
namespace {

struct GemmSpec {
  bool ta = false, tb = false;
  int64_t M = 1, N = 1, K = 1;
  double alpha = 1, beta = 0;
  int64_t pad = 0;  // extra elements at the end of every row of A, B and C
};

// Padding columns of C hold this value before and (must) after the call.
constexpr double kPadValue = 777;

template <class T>
void run_gemm(const std::string& version, const GemmSpec& g, CaseData& d) {
  const int64_t lda = (g.ta ? g.M : g.K) + g.pad, ldb = (g.tb ? g.K : g.N) + g.pad, ldc = g.N + g.pad;
  const T* A = d.inputs[0].data<T>();
  const T* B = d.inputs[1].data<T>();
  T* C = d.outputs[0].data<T>();
  if constexpr (std::is_same_v<T, float>)
    if (version == "bf16") return cpu::gemm_bf16(g.ta, g.tb, g.M, g.N, g.K, A, lda, B, ldb, C, ldc);
  if (version == "blas")
    cpu::gemm(g.ta, g.tb, g.M, g.N, g.K, T(g.alpha), A, lda, B, ldb, T(g.beta), C, ldc);
  else
    cpu::gemm_ref(g.ta, g.tb, g.M, g.N, g.K, T(g.alpha), A, lda, B, ldb, T(g.beta), C, ldc);
}

// The CUDA versions (f32 only): "<backend>-naive", "<backend>-tiled" or "cuda-cublas".
void run_cuda_gemm(const std::string& version, const GemmSpec& g, CaseData& d) {
  const int64_t lda = (g.ta ? g.M : g.K) + g.pad, ldb = (g.tb ? g.K : g.N) + g.pad, ldc = g.N + g.pad;
#if defined(BT_HAVE_CUDA_KERNELS)
  if (version == "cuda-cublas")
    return run_on_device(d, CaseDevice::cuda, [&](const KernelPointers& p) {
      cuda::cublas_sgemm(g.ta, g.tb, g.M, g.N, g.K, float(g.alpha), p.in<float>(0), lda, p.in<float>(1), ldb,
                         float(g.beta), p.out<float>(0), ldc);
    });
#endif
  const bool tiled = version.ends_with("-tiled");
  if (!tiled && !version.ends_with("-naive")) throw std::invalid_argument("matmul: unknown version " + version);
  run_cuda_version(version, d, [&]<class B>(B, const KernelPointers& p) {
    (tiled ? cuda::gemm_v2_tiled<B> : cuda::gemm_v1_naive<B>)(g.ta, g.tb, g.M, g.N, g.K, float(g.alpha),
                                                              p.in<float>(0), lda, p.in<float>(1), ldb,
                                                              float(g.beta), p.out<float>(0), ldc, nullptr);
  });
}

std::string spec_name(const GemmSpec& g, DType dt) {
  auto i = [](int64_t v) { return std::to_string(v); };
  std::string n = std::string(to_string(dt)) + " " + (g.ta ? "T" : "N") + (g.tb ? "T" : "N") + " " + i(g.M) + "x" +
                  i(g.N) + "x" + i(g.K);
  if (g.alpha != 1) n += " alpha" + std::to_string(g.alpha).substr(0, 4);
  n += g.beta == 0 ? " beta0" : " beta1";
  if (g.pad) n += " pad" + i(g.pad);
  return n;
}

// A and B uniform in [−1, 1); C starts random when beta ≠ 0 and NaN when beta = 0 (the BLAS
// contract: C is not read), its padding columns at kPadValue. f32 cases have the CUDA versions
// too (the emulator's only when `emulator`).
KernelCase gemm_case(const GemmSpec& g, DType dt, bool emulator = true) {
  KernelCase c;
  c.family = "matmul";
  c.name = spec_name(g, dt);
  c.versions = {"blas"};
  if (dt == DType::f32 && g.alpha == 1 && g.beta == 0) c.versions.push_back("bf16");
  if (dt == DType::f32) {
    for (const char* kernel : {"-naive", "-tiled"})
      for (const std::string& v : cuda_versions(emulator, kernel)) c.versions.push_back(v);
    if (cuda_device_available()) c.versions.push_back("cuda-cublas");
  }
  c.preferred = "blas";
  c.describe = [g](const std::string& version) {
    if (version != "bf16") return describe_version(version);
    return cpu::gemm_bf16_impl(g.ta, g.tb, g.M, g.N, g.K, (g.ta ? g.M : g.K) + g.pad, (g.tb ? g.K : g.N) + g.pad,
                               g.N + g.pad);
  };
  c.flops = 2.0 * double(g.M) * double(g.N) * double(g.K);
  c.bytes = (dt == DType::f32 ? 4.0 : 8.0) * double(g.M * g.K + g.K * g.N + (g.beta != 0 ? 2 : 1) * g.M * g.N);
  const double eps = dt == DType::f32 ? 2e-6 : 1e-13;
  c.atol = eps * std::sqrt(double(g.K));
  c.rtol = eps;
  // bf16 keeps 8 significant bits: each product's two roundings err by up to 2⁻⁸ of it, ~2000×
  // the float32 eps (tests/test_bf16_kernels.cpp checks the sums exactly, on rounded inputs).
  c.tol_scale["bf16"] = 2000;
  const std::vector<int64_t> a_shape{g.ta ? g.K : g.M, (g.ta ? g.M : g.K) + g.pad};
  const std::vector<int64_t> b_shape{g.tb ? g.N : g.K, (g.tb ? g.K : g.N) + g.pad};
  c.make_inputs = [g, dt, a_shape, b_shape] {
    CaseData d;
    d.inputs.emplace_back("A", dt, a_shape);
    d.inputs.emplace_back("B", dt, b_shape);
    d.inputs[0].fill_uniform(1, -1, 1);
    d.inputs[1].fill_uniform(2, -1, 1);
    Buffer& C = d.outputs.emplace_back("C", dt, std::vector<int64_t>{g.M, g.N + g.pad});
    C.fill_uniform(3, -1, 1);
    for (int64_t i = 0; i < g.M; ++i)
      for (int64_t j = 0; j < g.N + g.pad; ++j)
        if (j >= g.N)
          C.set(i * (g.N + g.pad) + j, kPadValue);
        else if (g.beta == 0)
          C.set(i * (g.N + g.pad) + j, NAN);
    return d;
  };
  c.run = [g, dt](const std::string& version, CaseData& d) {
    if (version != "blas" && version != "bf16" && version != kReference) return run_cuda_gemm(version, g, d);
    if (dt == DType::f32)
      run_gemm<float>(version, g, d);
    else
      run_gemm<double>(version, g, d);
  };
  return c;
}

std::vector<KernelCase> test_cases(const SuiteOptions& opt) {
  struct Size {
    int64_t M, N, K;
  };
  std::vector<Size> sizes{{7, 5, 3}, {1, 1, 1}, {1, 13, 9}, {17, 1, 11}, {9, 15, 1}, {64, 48, 33}};
  if (!opt.quick) sizes.push_back({130, 67, 129});
  std::vector<KernelCase> cases;
  for (DType dt : {DType::f32, DType::f64})
    for (int t = 0; t < 4; ++t)
      for (const Size& sz : sizes)
        for (double beta : {0.0, 1.0}) {
          GemmSpec g{.ta = (t & 1) != 0, .tb = (t & 2) != 0, .M = sz.M, .N = sz.N, .K = sz.K, .beta = beta};
          cases.push_back(gemm_case(g, dt));
          if (sz.M == 7) {  // strided rows and a non-unit alpha on one shape
            g.pad = 3;
            g.alpha = 0.5;
            cases.push_back(gemm_case(g, dt));
          }
        }
  return cases;
}

// sgemm at 2048³ (the machine's CPU figure: no CUDA versions), the GEMM shapes a ResNet / SSL
// step produces (and a GPU, if any), then the emulator at 128³.
std::vector<KernelCase> bench_cases(const SuiteOptions& opt) {
  const int64_t big = opt.quick ? 512 : 2048;
  struct Named {
    std::string group;
    GemmSpec g;
  };
  const std::vector<Named> specs{
      {kSgemmPeakGroup, {.M = big, .N = big, .K = big}},
      {"resnet", {.M = 64, .N = 1024, .K = 576}},           // im2col forward, layer1 at width 64
      {"resnet", {.M = 512, .N = 512, .K = 4608}},          // im2col forward, layer4 chunk at width 64
      {"resnet", {.tb = true, .M = 64, .N = 576, .K = 1024}},  // im2col backward_weight, layer1
      {"ssl-head", {.M = 256, .N = 2048, .K = 2048}},       // projector Linear, batch 256
      {"ssl-head", {.ta = true, .M = 2048, .N = 2048, .K = 256}},  // its weight gradient
  };
  std::vector<KernelCase> cases;
  for (const Named& n : specs) {
    KernelCase c = gemm_case(n.g, DType::f32, false);
    if (n.group == kSgemmPeakGroup) c.versions = {"blas"};
    c.group = n.group;
    if (n.g.M * n.g.N * n.g.K > (int64_t(1) << 27)) {  // the reference would take seconds
      GemmSpec small = n.g;
      small.M = 64;
      c.check_variant = [small] { return gemm_case(small, DType::f32, false); };
      c.check_note = "checked at M=64";
    }
    cases.push_back(std::move(c));
  }
  const int64_t e = opt.quick ? 64 : 128;
  for (const GemmSpec& g : {GemmSpec{.M = e, .N = e, .K = e}, GemmSpec{.ta = true, .M = e, .N = e, .K = e}})
    cases.push_back(gemm_case(g, DType::f32));
  return cases;
}

}  // namespace

Family matmul_family() {
  return {"matmul", [](const SuiteOptions& opt) { return opt.suite == Suite::test ? test_cases(opt) : bench_cases(opt); }};
}

}  // namespace bt::cases
