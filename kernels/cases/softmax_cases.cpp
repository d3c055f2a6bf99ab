// softmax cases: log-softmax and cross-entropy over the rows of (rows, cols), forward and
// backward, f32, against bt::cpu::*_ref in double. Versions:
//   fast        bt::cpu::log_softmax_* / cross_entropy_* (kernels/cpu/softmax.h)
//   simt, cuda  the log-softmax kernels of kernels/cuda/softmax.h (cuda_buffers.h); the device
//               cross-entropy (a loss per row, then the engine's mean) is checked against the cpu
//               op in tests/test_device_simt.cpp
// The log-softmax backward takes the forward's output y (made by the reference, rounded to
// f32); the cross-entropy's loss is an output of one element, upstream gradient g = 1.
#include <cmath>
#include <stdexcept>
#include <utility>

#include "kernels/cases/cuda_buffers.h"
#include "kernels/cases/families.h"
#include "kernels/cpu/softmax.h"
#include "kernels/cuda/softmax.h"

namespace bt::cases {
namespace {

enum class Op { log_softmax_forward, log_softmax_backward, cross_entropy_forward, cross_entropy_backward };

struct Spec {
  Op op;
  int64_t rows, cols;
};

std::string spec_name(const Spec& s) {
  static const char* const names[] = {"log_softmax forward", "log_softmax backward", "cross_entropy forward",
                                      "cross_entropy backward"};
  return std::string(names[int(s.op)]) + " " + std::to_string(s.rows) + "x" + std::to_string(s.cols);
}

// Buffers: log_softmax_forward     in x                out y
//          log_softmax_backward    in y, dy            out dx
//          cross_entropy_forward   in logits, labels   out loss (1)
//          cross_entropy_backward  in logits, labels   out dlogits
CaseData make_inputs(const Spec& s) {
  const std::vector<int64_t> shape{s.rows, s.cols};
  const bool labelled = s.op == Op::cross_entropy_forward || s.op == Op::cross_entropy_backward;
  CaseData d;
  Buffer x(labelled ? "logits" : "x", DType::f32, shape);
  x.fill_uniform(1, -8, 8);  // logits spread over e^16: the log-sum-exp must neither overflow nor lose them
  if (s.op == Op::log_softmax_backward) {
    std::vector<double> y(size_t(s.rows * s.cols));
    cpu::log_softmax_forward_ref<double>(s.rows, s.cols, x.values().data(), y.data());
    d.inputs.emplace_back("y", DType::f32, shape).set_values(y);
    d.inputs.emplace_back("dy", DType::f32, shape).fill_uniform(2, -1, 1);
  } else {
    d.inputs.push_back(std::move(x));
  }
  if (labelled)  // i32 truncates: integers in [0, cols)
    d.inputs.emplace_back("labels", DType::i32, std::vector<int64_t>{s.rows}).fill_uniform(3, 0, double(s.cols));
  d.outputs.emplace_back(s.op == Op::cross_entropy_forward ? "loss" : s.op == Op::log_softmax_forward ? "y" : "dx",
                         DType::f32, s.op == Op::cross_entropy_forward ? std::vector<int64_t>{1} : shape)
      .fill(NAN);
  return d;
}

// T = double runs the references, T = float the fast kernels.
template <class T>
void run(const Spec& s, const T* a, const T* b, const int32_t* labels, T* out) {
  const int64_t R = s.rows, C = s.cols;
  constexpr bool ref = std::is_same_v<T, double>;
  switch (s.op) {
    case Op::log_softmax_forward:
      (ref ? cpu::log_softmax_forward_ref<T> : cpu::log_softmax_forward<T>)(R, C, a, out);
      break;
    case Op::log_softmax_backward:
      (ref ? cpu::log_softmax_backward_ref<T> : cpu::log_softmax_backward<T>)(R, C, a, b, out);
      break;
    case Op::cross_entropy_forward:
      out[0] = (ref ? cpu::cross_entropy_forward_ref<T> : cpu::cross_entropy_forward<T>)(R, C, a, labels);
      break;
    case Op::cross_entropy_backward:
      (ref ? cpu::cross_entropy_backward_ref<T> : cpu::cross_entropy_backward<T>)(R, C, a, labels, T(1), out);
      break;
  }
}

// emulator: list the simt version (the test suite's shapes).
KernelCase softmax_case(const Spec& s, bool emulator) {
  const bool on_device = s.op == Op::log_softmax_forward || s.op == Op::log_softmax_backward;
  KernelCase c = fast_and_cuda_case("softmax", spec_name(s), emulator);
  if (!on_device) c.versions = {"fast"};
  // FLOPs per element: max, exp, sum and the subtraction (≈ 4; the backward's exp, multiply,
  // subtract ≈ 4). Bytes: inputs read, outputs written.
  const double n = double(s.rows * s.cols);
  c.flops = 4 * n;
  c.bytes = s.op == Op::log_softmax_backward ? 12 * n : s.op == Op::cross_entropy_forward ? 4 * n : 8 * n;
  // Log-probabilities are O(log cols + 16); gradients O(1), the cross-entropy's O(1/rows).
  c.atol = s.op == Op::cross_entropy_backward ? 1e-6 / double(s.rows) : 1e-6;
  c.rtol = 1e-5;
  c.make_inputs = [s] { return make_inputs(s); };
  c.run = [s](const std::string& version, CaseData& d) {
    const bool labelled = s.op == Op::cross_entropy_forward || s.op == Op::cross_entropy_backward;
    const bool with_dy = s.op == Op::log_softmax_backward;
    const int32_t* labels = labelled ? d.inputs[1].data<int32_t>() : nullptr;
    if (version == kReference) {
      const std::vector<double> a = d.inputs[0].values();
      const std::vector<double> b = with_dy ? d.inputs[1].values() : std::vector<double>{};
      std::vector<double> out(size_t(d.outputs[0].numel()));
      run<double>(s, a.data(), b.data(), labels, out.data());
      d.outputs[0].set_values(out);
    } else if (version == "fast") {
      const float* b = with_dy ? d.inputs[1].data<float>() : nullptr;
      run<float>(s, d.inputs[0].data<float>(), b, labels, d.outputs[0].data<float>());
    } else {
      run_cuda_version(version, d, [&]<class B>(B, const KernelPointers& p) {
        if (s.op == Op::log_softmax_forward)
          cuda::log_softmax_forward<B>(s.rows, s.cols, p.in<float>(0), p.out<float>(0), nullptr);
        else
          cuda::log_softmax_backward<B>(s.rows, s.cols, p.in<float>(0), p.in<float>(1), p.out<float>(0), nullptr);
      });
    }
  };
  return c;
}

constexpr Op kOps[] = {Op::log_softmax_forward, Op::log_softmax_backward, Op::cross_entropy_forward,
                       Op::cross_entropy_backward};

std::vector<KernelCase> test_cases(const SuiteOptions& opt) {
  struct Shape {
    int64_t rows, cols;
  };
  std::vector<Shape> shapes{{1, 1}, {7, 13}, {3, 100}};
  if (!opt.quick) shapes.insert(shapes.end(), {{33, 1000}, {129, 10}});
  std::vector<KernelCase> cases;
  for (const Shape& sh : shapes)
    for (Op op : kOps) cases.push_back(softmax_case({op, sh.rows, sh.cols}, true));
  return cases;
}

// A linear probe's logits over CIFAR-10 at batch 256, NT-Xent-sized rows (2N = 512 rows of 512)
// and an ImageNet classifier (256 rows of 1000).
std::vector<KernelCase> bench_cases(const SuiteOptions& opt) {
  const int64_t batch = opt.quick ? 64 : 256;
  std::vector<KernelCase> cases;
  for (Op op : kOps)
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{batch, 10}, {2 * batch, 2 * batch}, {batch, 1000}})
      cases.push_back(softmax_case({op, rows, cols}, false));
  return cases;
}

}  // namespace

Family softmax_family() {
  return {"softmax", [](const SuiteOptions& opt) { return opt.suite == Suite::test ? test_cases(opt) : bench_cases(opt); }};
}

}  // namespace bt::cases
