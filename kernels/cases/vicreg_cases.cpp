// vicreg cases: the fused VICReg loss (kernels/cpu/vicreg.h), forward + backward, f32, against
// its reference in double (bt::cpu::vicreg_loss_ref, outputs rounded to f32). Versions as in
// ssl_cases.cpp: fast (bt::cpu::vicreg_loss, what the cpu device runs), simt (kernels/cuda/vicreg.cu
// on the emulator: emulator times, small shapes only), cuda (a GPU, when there is one).
// Outputs: the loss (1), dz1, dz2; the workspace is an input with a guard zone, so writing past
// its documented size is caught.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cases/cuda_buffers.h"
#include "kernels/cases/families.h"
#include "kernels/cpu/vicreg.h"
#include "kernels/cuda/vicreg.h"

namespace bt::cases {
namespace {

struct Spec {
  int64_t N, D;
  bool simt = true;  // also run the CUDA kernel on the emulator
};

// z1, z2 (N, D) uniform, column spreads of 0.5, 3 and 1.2 (standard deviations on both sides
// of γ = 1, so the variance hinge is partly active) and per-column offsets (the centring
// matters). FLOPs: the two N·D² GEMMs per view (C and z̄ G); bytes: z1, z2 read, dz1, dz2 written.
KernelCase vicreg_case(const Spec& s) {
  const int64_t N = s.N, D = s.D;
  KernelCase c = fast_and_cuda_case("vicreg", "vicreg fwd+bwd N" + std::to_string(N) + " D" + std::to_string(D),
                                    s.simt);
  c.flops = 8.0 * double(N) * double(D) * double(D);
  c.bytes = 4.0 * (4.0 * double(N * D) + 1);
  // dz: 2λ(z1 − z2)/(N·D) ~ 50/(N·D) and the variance term ~ μ/(D·N): O(1/N) at most; the
  // covariance term grows with the spreads² but stays O(1/N) too. The loss is O(25): rtol.
  c.atol = 4e-5 / double(N);
  c.rtol = 1e-4;
  const int64_t ws = std::max(cpu::vicreg_workspace_size(N, D), cuda::vicreg_workspace_size(N, D));
  c.make_inputs = [N, D, ws] {
    CaseData d;
    for (int v = 0; v < 2; ++v) {
      Buffer& z = d.inputs.emplace_back(v == 0 ? "z1" : "z2", DType::f32, std::vector<int64_t>{N, D});
      z.fill_uniform(41 + v, -1, 1);
      for (int64_t k = 0; k < N * D; ++k) {
        const int64_t j = k % D;
        z.set(k, z.get(k) * (j % 3 == 1 ? 3.0 : j % 3 == 0 ? 0.5 : 1.2) + double(j % 4));
      }
    }
    d.inputs.emplace_back("workspace", DType::f32, std::vector<int64_t>{ws}).fill(0);
    d.outputs.emplace_back("loss", DType::f32, std::vector<int64_t>{1}).fill(NAN);
    for (const char* name : {"dz1", "dz2"})
      d.outputs.emplace_back(name, DType::f32, std::vector<int64_t>{N, D}).fill(NAN);
    return d;
  };
  c.run = [N, D](const std::string& version, CaseData& d) {
    const cpu::VicregWeights w;
    const float g = 1.0f;
    cpu::VicregTerms terms{};
    if (version == "fast") {
      terms = cpu::vicreg_loss<float>(N, D, d.inputs[0].data<float>(), d.inputs[1].data<float>(), w, g,
                                      d.outputs[1].data<float>(), d.outputs[2].data<float>(),
                                      d.inputs[2].data<float>());
    } else if (version == kReference) {
      std::vector<double> r1(size_t(N * D)), r2(size_t(N * D));
      terms = cpu::vicreg_loss_ref<double>(N, D, d.inputs[0].values().data(), d.inputs[1].values().data(), w, g,
                                           r1.data(), r2.data());
      d.outputs[1].set_values(r1);
      d.outputs[2].set_values(r2);
    } else {
      run_cuda_version(version, d, [&]<class B>(B, const KernelPointers& p) {
        terms = cuda::vicreg_loss<B>(N, D, p.in<float>(0), p.in<float>(1), w, g, p.out<float>(1), p.out<float>(2),
                                     p.in<float>(2), nullptr);
      });
    }
    d.outputs[0].data<float>()[0] = float(terms.loss(w));
  };
  return c;
}

// Ragged shapes (not multiples of the 64-wide tiles), every version.
std::vector<KernelCase> test_cases(const SuiteOptions& opt) {
  std::vector<KernelCase> cases{vicreg_case({7, 13})};
  if (!opt.quick) cases.push_back(vicreg_case({33, 70}));
  return cases;
}

// The CPU fast path at the training shape (group "ssl-loss", beside the other SSL losses: the
// 2048-wide expander at batch 256), checked at a smaller batch where the reference would take
// seconds; then every version, the emulator included, at an emulator-sized shape.
std::vector<KernelCase> bench_cases(const SuiteOptions& opt) {
  KernelCase training = vicreg_case({256, opt.quick ? 512 : 2048, false});
  training.group = "ssl-loss";
  training.check_variant = [] { return vicreg_case({32, 256, false}); };
  training.check_note = "checked at N=32 D=256";
  const int64_t n = opt.quick ? 32 : 64;
  std::vector<KernelCase> cases;
  cases.push_back(std::move(training));
  cases.push_back(vicreg_case({n, 2 * n}));
  return cases;
}

}  // namespace

Family vicreg_family() {
  return {"vicreg", [](const SuiteOptions& opt) { return opt.suite == Suite::test ? test_cases(opt) : bench_cases(opt); }};
}

}  // namespace bt::cases
