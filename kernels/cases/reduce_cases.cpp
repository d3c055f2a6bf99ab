// reduce cases: sums, f32, against bt::cpu::sum_*_ref in double. A matrix x (rows, cols) is
// summed over its columns (sum_dim1: (rows, cols, 1) in sum_axis's (outer, axis, inner) view)
// or its rows (sum_dim0: (1, rows, cols)), scaled by alpha. Versions:
//   fast  bt::cpu::sum_axis (kernels/cpu/reduce.h); only at alpha = 1 (it does not scale)
//   simt  bt::cuda::sum_dim1 / sum_dim0 (kernels/cuda/reduce.h) on the SIMT emulator; cuda on a GPU
// and the CPU-only sums: over a middle axis, its backward (a broadcast) and the full sum.
#include <cmath>
#include <stdexcept>

#include "kernels/cases/cuda_buffers.h"
#include "kernels/cases/families.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cuda/reduce.h"

namespace bt::cases {
namespace {

enum class Op { sum_dim1, sum_dim0, sum_axis, sum_axis_backward, sum_all };

struct Spec {
  Op op;
  int64_t outer, axis, inner;  // x (outer, axis, inner); sum_dim1: (rows, cols, 1), sum_dim0: (1, rows, cols)
  double alpha = 1;            // sum_dim1 / sum_dim0 only
  bool emulator = true;
};

Spec dim1(int64_t rows, int64_t cols, double alpha = 1, bool emulator = true) {
  return {Op::sum_dim1, rows, cols, 1, alpha, emulator};
}
Spec dim0(int64_t rows, int64_t cols, double alpha = 1, bool emulator = true) {
  return {Op::sum_dim0, 1, rows, cols, alpha, emulator};
}

std::string spec_name(const Spec& s) {
  auto i = [](int64_t v) { return std::to_string(v); };
  const std::string alpha = s.alpha != 1 ? " alpha" + std::to_string(s.alpha).substr(0, 6) : "";
  switch (s.op) {
    case Op::sum_dim1: return "sum_dim1 " + i(s.outer) + "x" + i(s.axis) + alpha;
    case Op::sum_dim0: return "sum_dim0 " + i(s.axis) + "x" + i(s.inner) + alpha;
    case Op::sum_axis: return "sum_axis " + i(s.outer) + "x[" + i(s.axis) + "]x" + i(s.inner);
    case Op::sum_axis_backward: return "sum_axis_backward " + i(s.outer) + "x[" + i(s.axis) + "]x" + i(s.inner);
    case Op::sum_all: return "sum_all n" + i(s.axis);
  }
  return "";
}

KernelCase reduce_case(const Spec& s) {
  const bool cuda = s.op == Op::sum_dim1 || s.op == Op::sum_dim0;
  const int64_t n = s.outer * s.axis * s.inner, m = s.op == Op::sum_all ? 1 : s.outer * s.inner;
  KernelCase c;
  c.family = "reduce";
  c.name = spec_name(s);
  if (s.alpha == 1) c.versions.push_back("fast");
  if (cuda)
    for (const std::string& v : cuda_versions(s.emulator)) c.versions.push_back(v);
  c.preferred = s.alpha == 1 ? "fast" : "";
  c.describe = describe_version;
  c.flops = double(n);
  c.bytes = 4.0 * double(n + m);
  // Float partial sums of `axis` values in [−2, 2): errors grow with the length summed.
  c.atol = 2e-6 * double(s.op == Op::sum_axis_backward ? 1 : s.axis);
  c.rtol = 1e-5;
  const std::vector<int64_t> x_shape{s.outer, s.axis, s.inner}, y_shape{s.outer, s.inner};
  const bool backward = s.op == Op::sum_axis_backward;
  c.make_inputs = [=] {
    CaseData d;
    d.inputs.emplace_back(backward ? "dy" : "x", DType::f32, backward ? y_shape : x_shape).fill_uniform(3, -2, 2);
    d.outputs.emplace_back(backward ? "dx" : "y", DType::f32,
                           backward ? x_shape : s.op == Op::sum_all ? std::vector<int64_t>{1} : y_shape)
        .fill(NAN);
    return d;
  };
  c.run = [s, n](const std::string& version, CaseData& d) {
    if (version == kReference) {
      const std::vector<double> x = d.inputs[0].values();
      std::vector<double> y(size_t(d.outputs[0].numel()));
      switch (s.op) {
        case Op::sum_axis_backward: cpu::sum_axis_backward_ref<double>(s.outer, s.axis, s.inner, x.data(), y.data()); break;
        case Op::sum_all: y[0] = cpu::sum_all_ref<double>(n, x.data()); break;
        default:
          cpu::sum_axis_ref<double>(s.outer, s.axis, s.inner, x.data(), y.data());
          for (double& v : y) v *= s.alpha;
      }
      d.outputs[0].set_values(y);
      return;
    }
    const float* x = d.inputs[0].data<float>();
    float* y = d.outputs[0].data<float>();
    if (version == "fast") {
      if (s.alpha != 1) throw std::invalid_argument("reduce: no fast version with alpha != 1");
      switch (s.op) {
        case Op::sum_axis_backward: cpu::sum_axis_backward<float>(s.outer, s.axis, s.inner, x, y); break;
        case Op::sum_all: y[0] = cpu::sum_all<float>(n, x); break;
        default: cpu::sum_axis<float>(s.outer, s.axis, s.inner, x, y);
      }
      return;
    }
    run_cuda_version(version, d, [&]<class B>(B, const KernelPointers& p) {
      if (s.op == Op::sum_dim1)
        cuda::sum_dim1<B>(s.outer, s.axis, p.in<float>(0), float(s.alpha), p.out<float>(0), nullptr);
      else if (s.op == Op::sum_dim0)
        cuda::sum_dim0<B>(s.axis, s.inner, p.in<float>(0), float(s.alpha), p.out<float>(0), nullptr);
      else
        throw std::invalid_argument("reduce: no CUDA version of " + spec_name(s));
    });
  };
  return c;
}

// Ragged shapes; rows of ≤ 256 columns take the CUDA warp-per-row kernel, longer ones the
// block-per-row kernel; alpha ≠ 1 (the mean) on two of them.
std::vector<KernelCase> test_cases(const SuiteOptions& opt) {
  std::vector<Spec> specs{dim1(1, 1),   dim0(1, 1),  dim1(37, 33),       dim0(37, 33),
                          dim1(3, 1000), dim0(1000, 5), dim1(2, 257, 1.0 / 257), dim0(257, 30, 1.0 / 257),
                          {Op::sum_axis, 3, 7, 5},       {Op::sum_axis_backward, 3, 7, 5}, {Op::sum_all, 1, 1001, 1}};
  if (!opt.quick)
    specs.insert(specs.end(), {dim1(257, 300), dim0(257, 300), dim1(1, 20000), {Op::sum_all, 1, 100003, 1}});
  std::vector<KernelCase> cases;
  for (const Spec& s : specs) cases.push_back(reduce_case(s));
  return cases;
}

// Training shapes for the CPU (and GPU): the bias gradient of the SSL projector's Linear at
// batch 256 (sum over the rows of (256, 2048)); per-plane sums of a ResNet-18 width-16 layer1
// activation (256·16 rows of 32·32), its sum over the channels (a middle axis) and that sum's
// backward, and its full sum; then the emulator at 256 × 256.
std::vector<KernelCase> bench_cases(const SuiteOptions& opt) {
  const int64_t batch = opt.quick ? 32 : 256, e = opt.quick ? 128 : 256;
  const std::vector<Spec> specs{
      dim0(batch, 2048, 1, false),
      dim1(batch * 16, 1024, 1, false),
      {Op::sum_axis, batch, 16, 1024},
      {Op::sum_axis_backward, batch, 16, 1024},
      {Op::sum_all, 1, batch * 16 * 1024, 1},
      dim1(e, e),
      dim0(e, e),
  };
  std::vector<KernelCase> cases;
  for (const Spec& s : specs) cases.push_back(reduce_case(s));
  return cases;
}

}  // namespace

Family reduce_family() {
  return {"reduce", [](const SuiteOptions& opt) { return opt.suite == Suite::test ? test_cases(opt) : bench_cases(opt); }};
}

}  // namespace bt::cases
