// ssl cases: the three fused SSL losses (docs/design.md §5), forward + backward, f32, against the
// references in double (bt::cpu::*_ref, outputs rounded to f32). Versions:
//   fast  bt::cpu::* (OpenBLAS GEMM tiles, OpenMP) — what the cpu device runs
//   simt  bt::cuda::*<Simt>: the CUDA kernels (kernels/cuda/ssl_loss_launchers.h) on the SIMT emulator;
//         its times are emulator times on the CPU (a fiber per CUDA thread), not GPU times, and
//         only on shapes small enough for the emulator
//   cuda  bt::cuda::*<Gpu> on a CUDA device, when there is one (cuda_buffers.h); the loss comes
//         back from the launcher to the host.
// Outputs: the loss (1) and the gradients; scratch (workspace, lse) are inputs with guard zones,
// so a version writing past its documented workspace size is caught.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cases/cuda_buffers.h"
#include "kernels/cases/families.h"
#include "kernels/cpu/ssl_loss_kernels.h"
#include "kernels/cuda/ssl_loss_launchers.h"

namespace bt::cases {
namespace {

enum class Loss { barlow_twins, nt_xent, byol };

struct Spec {
  Loss loss;
  int64_t N, D;
  double param = 0;  // Barlow Twins: λ; NT-Xent: τ
  bool simt = true;  // also run the CUDA kernels on the emulator
};

std::string spec_name(const Spec& s) {
  const std::string shape = "N" + std::to_string(s.N) + " D" + std::to_string(s.D);
  switch (s.loss) {
    case Loss::barlow_twins: return "barlow_twins fwd+bwd " + shape;
    case Loss::nt_xent: return "nt_xent fwd+bwd " + shape + " tau" + std::to_string(s.param).substr(0, 4);
    case Loss::byol: return "byol fwd+bwd " + shape;
  }
  return "";
}

// Barlow Twins: z1, z2 (N, D) uniform with per-column offsets and scales (the BN matters);
// outputs loss, dz1, dz2. FLOPs: the three N·D² GEMMs (C, dẑ1, dẑ2); bytes: z1, z2 read and
// dz1, dz2 written once.
void barlow_twins_case(const Spec& s, KernelCase& c) {
  const int64_t N = s.N, D = s.D;
  const float lambda = float(s.param), g = 1.0f;
  c.flops = 6.0 * double(N) * double(D) * double(D);
  c.bytes = 4.0 * (4.0 * double(N * D) + 1);
  // dz ≈ invstd·ẑ·G/N with G_ii ≈ −2: gradients up to O(1/N); the loss is O(D): rtol covers it.
  c.atol = 4e-5 / double(N);
  c.rtol = 1e-4;
  const int64_t ws = std::max(cpu::barlow_twins_workspace_size(N, D), cuda::barlow_twins_workspace_size(N, D));
  c.make_inputs = [N, D, ws] {
    CaseData d;
    for (int v = 0; v < 2; ++v) {
      Buffer& z = d.inputs.emplace_back(v == 0 ? "z1" : "z2", DType::f32, std::vector<int64_t>{N, D});
      z.fill_uniform(11 + v, -1, 1);
      for (int64_t k = 0; k < N * D; ++k) z.set(k, z.get(k) * double(1 + k % 3) + double(k % 5));
    }
    d.inputs.emplace_back("workspace", DType::f32, std::vector<int64_t>{ws}).fill(0);
    d.outputs.emplace_back("loss", DType::f32, std::vector<int64_t>{1}).fill(NAN);
    for (const char* name : {"dz1", "dz2"})
      d.outputs.emplace_back(name, DType::f32, std::vector<int64_t>{N, D}).fill(NAN);
    return d;
  };
  c.run = [N, D, lambda, g](const std::string& version, CaseData& d) {
    float loss = 0;
    if (version == "fast") {
      loss = cpu::barlow_twins_loss<float>(N, D, d.inputs[0].data<float>(), d.inputs[1].data<float>(), lambda, g,
                                           d.outputs[1].data<float>(), d.outputs[2].data<float>(),
                                           d.inputs[2].data<float>());
    } else if (version == kReference) {
      std::vector<double> r1(size_t(N * D)), r2(size_t(N * D));
      loss = float(cpu::barlow_twins_loss_ref<double>(N, D, d.inputs[0].values().data(), d.inputs[1].values().data(),
                                                      lambda, g, r1.data(), r2.data()));
      d.outputs[1].set_values(r1);
      d.outputs[2].set_values(r2);
    } else {
      run_cuda_version(version, d, [&]<class B>(B, const KernelPointers& p) {
        loss = cuda::barlow_twins_loss<B>(N, D, p.in<float>(0), p.in<float>(1), lambda, g, p.out<float>(1),
                                          p.out<float>(2), p.in<float>(2), nullptr);
      });
    }
    d.outputs[0].data<float>()[0] = loss;
  };
}

// NT-Xent: z (2N, D) with L2-normalized rows, half of the positives nearly aligned; outputs
// loss, dz. FLOPs: the similarity tiles twice (forward, recomputed in the backward) and W·z:
// 3 · 2·(2N)²·D; bytes: z read, dz written.
void nt_xent_case(const Spec& s, KernelCase& c) {
  const int64_t N = s.N, D = s.D, M = 2 * N;
  const float tau = float(s.param), g = 1.0f;
  c.flops = 6.0 * double(M) * double(M) * double(D);
  c.bytes = 4.0 * (2.0 * double(M * D) + 1);
  c.atol = 2e-6 / (s.param * double(M));  // dz is O(1/(Mτ))
  c.rtol = 2e-6 / s.param;
  const int64_t ws = cuda::nt_xent_workspace_size(N, D);
  c.make_inputs = [N, D, M, ws] {
    CaseData d;
    Buffer& z = d.inputs.emplace_back("z", DType::f32, std::vector<int64_t>{M, D});
    z.fill_uniform(21, -1, 1);
    for (int64_t i = 0; i < N / 2; ++i)
      for (int64_t k = 0; k < D; ++k) z.set((i + N) * D + k, z.get(i * D + k) + 0.05 * z.get((i + N) * D + k));
    for (int64_t i = 0; i < M; ++i) {
      double q = 0;
      for (int64_t k = 0; k < D; ++k) q += z.get(i * D + k) * z.get(i * D + k);
      for (int64_t k = 0; k < D; ++k) z.set(i * D + k, z.get(i * D + k) / std::sqrt(q));
    }
    // forward -> backward: lse, q (the CPU and CUDA layouts are the same)
    d.inputs.emplace_back("saved", DType::f32, std::vector<int64_t>{cpu::nt_xent_saved_size(N)}).fill(0);
    d.inputs.emplace_back("workspace", DType::f32, std::vector<int64_t>{ws}).fill(0);
    d.outputs.emplace_back("loss", DType::f32, std::vector<int64_t>{1}).fill(NAN);
    d.outputs.emplace_back("dz", DType::f32, std::vector<int64_t>{M, D}).fill(NAN);
    return d;
  };
  c.run = [N, D, tau, g](const std::string& version, CaseData& d) {
    float loss = 0;
    if (version == "fast") {
      const float* z = d.inputs[0].data<float>();
      float* saved = d.inputs[1].data<float>();
      loss = cpu::nt_xent_forward<float>(N, D, z, tau, saved);
      cpu::nt_xent_backward<float>(N, D, z, tau, saved, g, d.outputs[1].data<float>());
    } else if (version == kReference) {
      std::vector<double> r(size_t(2 * N * D));
      loss = float(cpu::nt_xent_loss_ref<double>(N, D, d.inputs[0].values().data(), tau, g, r.data()));
      d.outputs[1].set_values(r);
    } else {
      run_cuda_version(version, d, [&]<class B>(B, const KernelPointers& p) {
        const float* z = p.in<float>(0);
        float *saved = p.in<float>(1), *ws = p.in<float>(2);
        loss = cuda::nt_xent_forward<B>(N, D, z, tau, saved, ws, nullptr);
        cuda::nt_xent_backward<B>(N, D, z, tau, saved, g, p.out<float>(1), ws, nullptr);
      });
    }
    d.outputs[0].data<float>()[0] = loss;
  };
}

// BYOL: p, t (N, D) uniform; outputs loss, dp. FLOPs: three dot products and the dp update per
// element (≈ 9·N·D); bytes: p, t read, dp written.
void byol_case(const Spec& s, KernelCase& c) {
  const int64_t N = s.N, D = s.D;
  const float g = 1.0f;
  c.flops = 9.0 * double(N * D);
  c.bytes = 4.0 * (3.0 * double(N * D) + 1);
  c.atol = 1e-6 / double(N);  // dp is O(1/(N·||p||))
  c.rtol = 1e-5;
  const int64_t ws = cuda::byol_workspace_size(N, D);
  c.make_inputs = [N, D, ws] {
    CaseData d;
    d.inputs.emplace_back("p", DType::f32, std::vector<int64_t>{N, D}).fill_uniform(31, -1, 1);
    d.inputs.emplace_back("t", DType::f32, std::vector<int64_t>{N, D}).fill_uniform(32, -1, 1);
    d.inputs.emplace_back("workspace", DType::f32, std::vector<int64_t>{ws}).fill(0);
    d.outputs.emplace_back("loss", DType::f32, std::vector<int64_t>{1}).fill(NAN);
    d.outputs.emplace_back("dp", DType::f32, std::vector<int64_t>{N, D}).fill(NAN);
    return d;
  };
  c.run = [N, D, g](const std::string& version, CaseData& d) {
    float loss = 0;
    if (version == "fast") {
      loss = cpu::byol_loss<float>(N, D, d.inputs[0].data<float>(), d.inputs[1].data<float>(), g,
                                   d.outputs[1].data<float>());
    } else if (version == kReference) {
      std::vector<double> r(size_t(N * D));
      loss = float(cpu::byol_loss_ref<double>(N, D, d.inputs[0].values().data(), d.inputs[1].values().data(), g,
                                              r.data()));
      d.outputs[1].set_values(r);
    } else {
      run_cuda_version(version, d, [&]<class B>(B, const KernelPointers& p) {
        loss = cuda::byol_loss<B>(N, D, p.in<float>(0), p.in<float>(1), g, p.out<float>(1), p.in<float>(2), nullptr);
      });
    }
    d.outputs[0].data<float>()[0] = loss;
  };
}

KernelCase ssl_case(const Spec& s) {
  KernelCase c = fast_and_cuda_case("ssl", spec_name(s), s.simt);
  switch (s.loss) {
    case Loss::barlow_twins: barlow_twins_case(s, c); break;
    case Loss::nt_xent: nt_xent_case(s, c); break;
    case Loss::byol: byol_case(s, c); break;
  }
  return c;
}

// Ragged shapes (not multiples of the 64-wide tiles), every version.
std::vector<KernelCase> test_cases(const SuiteOptions& opt) {
  std::vector<Spec> specs{{Loss::barlow_twins, 7, 13, 0.0051}, {Loss::nt_xent, 7, 13, 0.5}, {Loss::byol, 7, 13}};
  if (!opt.quick)
    specs.insert(specs.end(),
                 {{Loss::barlow_twins, 33, 70, 1.0 / 69}, {Loss::nt_xent, 33, 70, 0.1}, {Loss::byol, 33, 70}});
  std::vector<KernelCase> cases;
  for (const Spec& s : specs) cases.push_back(ssl_case(s));
  return cases;
}

// The CPU fast path at training shapes (group "ssl-loss": BT projector 2048 at batch 256,
// SimCLR at batch 512 with D = 128, BYOL's 256-d predictor output), errors checked on a smaller
// batch where the reference would take seconds; then every version, the emulator included, at
// emulator-sized shapes (no group: emulator times are not summarised with CPU times).
std::vector<KernelCase> bench_cases(const SuiteOptions& opt) {
  struct Timed {
    Spec spec, check;  // check.N == 0: checked at the timed shape
  };
  std::vector<Timed> training{
      {{Loss::barlow_twins, 256, opt.quick ? 512 : 2048, 0.0051, false}, {Loss::barlow_twins, 32, 256, 0.0051, false}},
      {{Loss::nt_xent, opt.quick ? 128 : 512, 128, 0.5, false}, {Loss::nt_xent, 64, 128, 0.5, false}},
      {{Loss::byol, 256, 256, 0, false}, {}},
  };
  std::vector<KernelCase> cases;
  for (const Timed& t : training) {
    KernelCase c = ssl_case(t.spec);
    c.group = "ssl-loss";
    if (t.check.N) {
      c.check_variant = [check = t.check] { return ssl_case(check); };
      c.check_note = "checked at N=" + std::to_string(t.check.N) + " D=" + std::to_string(t.check.D);
    }
    cases.push_back(std::move(c));
  }
  const int64_t n = opt.quick ? 32 : 64;
  for (const Spec& s :
       {Spec{Loss::barlow_twins, n, 2 * n, 0.0051}, Spec{Loss::nt_xent, n, 128, 0.5}, Spec{Loss::byol, n, 256}})
    cases.push_back(ssl_case(s));
  return cases;
}

}  // namespace

Family ssl_family() {
  return {"ssl", [](const SuiteOptions& opt) { return opt.suite == Suite::test ? test_cases(opt) : bench_cases(opt); }};
}

}  // namespace bt::cases
