// normalize cases: L2 normalization of the rows of x (N, D), y = x / max(‖x‖, eps), forward
// and backward, f32, against bt::cpu::l2_normalize_*_ref in double. Versions:
//   fast  bt::cpu::l2_normalize_* (kernels/cpu/normalize.h)
//   simt  bt::cuda::l2_normalize_* (kernels/cuda/normalize.h) on the SIMT emulator; cuda on a GPU
// Row 0 of x is zero, so its norm is under eps (y = x / eps = 0, dx = dy / eps).
#include <cmath>
#include <stdexcept>

#include "kernels/cases/cuda_buffers.h"
#include "kernels/cases/families.h"
#include "kernels/cpu/normalize.h"
#include "kernels/cuda/normalize.h"

namespace bt::cases {
namespace {

struct Spec {
  bool backward;
  int64_t N, D;
  float eps = 1e-12f;
  bool emulator = true;
};

KernelCase normalize_case(const Spec& s) {
  KernelCase c = fast_and_cuda_case("normalize", std::string(s.backward ? "l2_normalize backward" : "l2_normalize forward") + " N" + std::to_string(s.N) +
           " D" + std::to_string(s.D) + (s.eps != 1e-12f ? " eps" + std::to_string(s.eps).substr(0, 4) : ""), s.emulator);
  // FLOPs per element: forward x² summed and a multiply (3); backward the norm, x·dy and
  // dy/n − x(x·dy)/n³ (≈ 7). Bytes: x (and dy) read, y (dx) written.
  const double n = double(s.N * s.D);
  c.flops = n * (s.backward ? 7 : 3);
  c.bytes = 4.0 * n * (s.backward ? 3 : 2);
  // dx of the zero row is dy / eps: huge, compared relatively.
  c.atol = s.backward ? 1e-5 : 1e-6;
  c.rtol = s.backward ? 1e-4 : 1e-5;
  c.make_inputs = [s] {
    CaseData d;
    const std::vector<int64_t> shape{s.N, s.D};
    Buffer& x = d.inputs.emplace_back("x", DType::f32, shape);
    x.fill_uniform(1, -2, 2);
    for (int64_t k = 0; k < s.D; ++k) x.set(k, 0);
    if (s.backward) d.inputs.emplace_back("dy", DType::f32, shape).fill_uniform(2, -2, 2);
    d.outputs.emplace_back(s.backward ? "dx" : "y", DType::f32, shape).fill(NAN);
    return d;
  };
  c.run = [s](const std::string& version, CaseData& d) {
    if (version == kReference) {
      const std::vector<double> x = d.inputs[0].values();
      std::vector<double> y(x.size());
      if (s.backward)
        cpu::l2_normalize_backward_ref<double>(s.N, s.D, x.data(), d.inputs[1].values().data(), s.eps, y.data());
      else
        cpu::l2_normalize_forward_ref<double>(s.N, s.D, x.data(), s.eps, y.data());
      d.outputs[0].set_values(y);
    } else if (version == "fast") {
      const float* x = d.inputs[0].data<float>();
      float* y = d.outputs[0].data<float>();
      if (s.backward)
        cpu::l2_normalize_backward<float>(s.N, s.D, x, d.inputs[1].data<float>(), s.eps, y);
      else
        cpu::l2_normalize_forward<float>(s.N, s.D, x, s.eps, y);
    } else {
      run_cuda_version(version, d, [&]<class B>(B, const KernelPointers& p) {
        if (s.backward)
          cuda::l2_normalize_backward<B>(s.N, s.D, p.in<float>(0), p.in<float>(1), s.eps, p.out<float>(0), nullptr);
        else
          cuda::l2_normalize_forward<B>(s.N, s.D, p.in<float>(0), s.eps, p.out<float>(0), nullptr);
      });
    }
  };
  return c;
}

// Ragged shapes; eps = 0.5 puts some rows of D = 1 under eps.
std::vector<KernelCase> test_cases(const SuiteOptions& opt) {
  struct Shape {
    int64_t N, D;
    float eps;
  };
  std::vector<Shape> shapes{{3, 7, 1e-12f}, {17, 33, 1e-12f}, {9, 1, 0.5f}};
  if (!opt.quick) shapes.insert(shapes.end(), {{5, 100, 1e-12f}, {2, 1000, 1e-12f}});
  std::vector<KernelCase> cases;
  for (const Shape& sh : shapes)
    for (bool backward : {false, true}) cases.push_back(normalize_case({backward, sh.N, sh.D, sh.eps}));
  return cases;
}

// SimCLR's projections at batch 256 (2N = 512 rows of 128) and BYOL's predictor outputs (256 of
// 256), then the emulator at 64 × 128.
std::vector<KernelCase> bench_cases(const SuiteOptions& opt) {
  const int64_t batch = opt.quick ? 64 : 256;
  std::vector<KernelCase> cases;
  for (bool backward : {false, true}) {
    cases.push_back(normalize_case({backward, 2 * batch, 128, 1e-12f, false}));
    cases.push_back(normalize_case({backward, batch, 256, 1e-12f, false}));
    cases.push_back(normalize_case({backward, opt.quick ? 32 : 64, 128}));
  }
  return cases;
}

}  // namespace

Family normalize_family() {
  return {"normalize",
          [](const SuiteOptions& opt) { return opt.suite == Suite::test ? test_cases(opt) : bench_cases(opt); }};
}

}  // namespace bt::cases
