// elementwise cases: the elementwise kernels, f32, against plain loops in double (the
// reference: one line of math per op, below). Versions:
//   fast  bt::cpu::unary / binary / add_relu / relu_backward / axpy / strided_copy (kernels/cpu/elementwise.h)
//   simt  bt::cuda::* (kernels/cuda/elementwise.h, the copies kernels/cuda/copy.h) on the SIMT
//         emulator; cuda on a GPU
// Not every op has both: axpby (general β) is CUDA-only, the broadcast bias add
// CPU-only. log, sqrt and pow take x in [0.1, 3], div a divisor of magnitude in [0.5, 2].
// Outputs are NaN before the run, except axpby's y (read: y = αx + βy) which starts random.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kernels/cases/cuda_buffers.h"
#include "kernels/cases/families.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cuda/copy.h"
#include "kernels/cuda/elementwise.h"

namespace bt::cases {
namespace {

enum class Op {
  relu, relu_backward, add, mul, div, scale, axpby, axpy, add_relu, exp, log, sqrt, pow, bias_add, transpose, broadcast
};

struct Spec {
  Op op;
  int64_t n;             // elements of the output (bias_add, broadcast: a multiple of kBiasC·kBiasHW)
  int64_t rows = 1;      // transpose: x is (rows, n / rows)
  bool emulator = true;  // small enough for the simt version
};

constexpr float kAlpha = 0.5f, kBeta = -0.25f;  // scale, axpby, axpy
constexpr float kPow = 1.5f;                     // pow: y = x^kPow
constexpr int64_t kBiasC = 16, kBiasHW = 7;     // bias_add: x (n / (C·HW), C, HW) + bias (C); broadcast: bias

struct OpInfo {
  const char* name;
  int inputs;        // x | a, b | y, dy | x, bias
  double flops;      // per element
  double rw;         // values read + written per element
  bool fast, cuda;   // which versions exist besides the reference
};

OpInfo info(Op op) {
  switch (op) {
    case Op::relu: return {"relu_forward", 1, 1, 2, true, true};
    case Op::relu_backward: return {"relu_backward", 2, 1, 3, true, true};
    case Op::add: return {"add", 2, 1, 3, true, true};
    case Op::mul: return {"mul", 2, 1, 3, true, true};
    case Op::div: return {"div", 2, 1, 3, true, true};
    case Op::scale: return {"scale", 1, 1, 2, true, true};
    case Op::axpby: return {"axpby", 1, 3, 3, false, true};
    case Op::axpy: return {"axpy (axpby beta=1)", 1, 2, 3, true, true};
    case Op::add_relu: return {"add_relu", 2, 2, 3, true, true};
    case Op::exp: return {"exp", 1, 1, 2, true, true};
    case Op::log: return {"log", 1, 1, 2, true, true};
    case Op::sqrt: return {"sqrt", 1, 1, 2, true, true};
    case Op::pow: return {"pow (scalar exponent)", 1, 1, 2, true, true};
    case Op::bias_add: return {"bias_add (N,C,HW)+(C)", 2, 1, 2, true, false};
    case Op::transpose: return {"transpose copy", 1, 0, 2, true, true};
    case Op::broadcast: return {"broadcast copy (C)->(N,C,HW)", 1, 0, 1, true, true};
  }
  return {};
}

// The reference: y[i] from the inputs, in double.
void reference(const Spec& s, CaseData& d) {
  const std::vector<double> a = d.inputs[0].values();
  const std::vector<double> b = d.inputs.size() > 1 ? d.inputs[1].values() : std::vector<double>{};
  std::vector<double> y = d.outputs[0].values();
  const int64_t cols = s.n / s.rows;
  for (int64_t i = 0; i < s.n; ++i) {
    const double x = a[size_t(i)];
    double& out = y[size_t(i)];
    switch (s.op) {
      case Op::relu: out = std::max(x, 0.0); break;
      case Op::relu_backward: out = x > 0 ? b[size_t(i)] : 0.0; break;
      case Op::add: out = x + b[size_t(i)]; break;
      case Op::mul: out = x * b[size_t(i)]; break;
      case Op::div: out = x / b[size_t(i)]; break;
      case Op::scale: out = kAlpha * x; break;
      case Op::axpby: out = kAlpha * x + kBeta * out; break;
      case Op::axpy: out = kAlpha * x + out; break;
      case Op::add_relu: out = std::max(x + b[size_t(i)], 0.0); break;
      case Op::exp: out = std::exp(x); break;
      case Op::log: out = std::log(x); break;
      case Op::sqrt: out = std::sqrt(x); break;
      case Op::pow: out = std::pow(x, double(kPow)); break;
      case Op::bias_add: out = x + b[size_t(i / kBiasHW % kBiasC)]; break;
      case Op::transpose: out = a[size_t(i % s.rows * cols + i / s.rows)]; break;  // y (cols, rows)
      case Op::broadcast: out = a[size_t(i / kBiasHW % kBiasC)]; break;
    }
  }
  d.outputs[0].set_values(y);
}

// The copies as (shape, source strides, destination strides), for both strided_copy kernels:
// transpose: y (cols, rows) = xᵀ, y row-major, x read through swapped strides;
// broadcast: y (N, C, HW) from x (C), strides 0 over N and HW.
cuda::StridedLayout copy_layout(const Spec& s) {
  if (s.op == Op::transpose) {
    const int64_t cols = s.n / s.rows;
    return {2, {cols, s.rows}, {1, cols}, {s.rows, 1}};
  }
  return {3, {s.n / (kBiasC * kBiasHW), kBiasC, kBiasHW}, {0, 1, 0}, {kBiasC * kBiasHW, kBiasHW, 1}};
}

void run_fast(const Spec& s, CaseData& d) {
  const float* a = d.inputs[0].data<float>();
  const float* b = d.inputs.size() > 1 ? d.inputs[1].data<float>() : nullptr;
  float* y = d.outputs[0].data<float>();
  const int64_t one = 1;
  switch (s.op) {
    case Op::relu: cpu::unary(cpu::UnaryOp::relu, s.n, a, y); break;
    case Op::relu_backward: cpu::relu_backward(s.n, a, b, y); break;
    case Op::add: cpu::binary(cpu::BinaryOp::add, 1, &s.n, a, &one, b, &one, y); break;
    case Op::mul: cpu::binary(cpu::BinaryOp::mul, 1, &s.n, a, &one, b, &one, y); break;
    case Op::div: cpu::binary(cpu::BinaryOp::div, 1, &s.n, a, &one, b, &one, y); break;
    case Op::scale: cpu::unary(cpu::UnaryOp::mul_scalar, s.n, a, y, kAlpha); break;
    case Op::axpy: cpu::axpy(s.n, kAlpha, a, y); break;
    case Op::add_relu: cpu::add_relu(s.n, a, b, y); break;
    case Op::exp: cpu::unary(cpu::UnaryOp::exp, s.n, a, y); break;
    case Op::log: cpu::unary(cpu::UnaryOp::log, s.n, a, y); break;
    case Op::sqrt: cpu::unary(cpu::UnaryOp::sqrt, s.n, a, y); break;
    case Op::pow: cpu::unary(cpu::UnaryOp::pow, s.n, a, y, kPow); break;
    case Op::bias_add: {
      const int64_t shape[3] = {s.n / (kBiasC * kBiasHW), kBiasC, kBiasHW};
      const int64_t a_strides[3] = {kBiasC * kBiasHW, kBiasHW, 1}, b_strides[3] = {0, 1, 0};
      cpu::binary(cpu::BinaryOp::add, 3, shape, a, a_strides, b, b_strides, y);
      break;
    }
    case Op::transpose:
    case Op::broadcast: {
      const cuda::StridedLayout l = copy_layout(s);
      cpu::strided_copy(l.ndim, l.shape, a, l.src_strides, y, l.dst_strides);
      break;
    }
    default: throw std::invalid_argument(std::string("elementwise: no fast version of ") + info(s.op).name);
  }
}

void run_cuda(const Spec& s, const std::string& version, CaseData& d) {
  run_cuda_version(version, d, [&]<class B>(B, const KernelPointers& p) {
    const float* a = p.in<float>(0);
    const float* b = info(s.op).inputs > 1 ? p.in<float>(1) : nullptr;
    float* y = p.out<float>(0);
    switch (s.op) {
      case Op::relu: cuda::relu_forward<B>(s.n, a, y, nullptr); break;
      case Op::relu_backward: cuda::relu_backward<B>(s.n, a, b, y, nullptr); break;
      case Op::add: cuda::add<B>(s.n, a, b, y, nullptr); break;
      case Op::mul: cuda::mul<B>(s.n, a, b, y, nullptr); break;
      case Op::div: cuda::div<B>(s.n, a, b, y, nullptr); break;
      case Op::exp: cuda::exp_forward<B>(s.n, a, y, nullptr); break;
      case Op::log: cuda::log_forward<B>(s.n, a, y, nullptr); break;
      case Op::sqrt: cuda::sqrt_forward<B>(s.n, a, y, nullptr); break;
      case Op::pow: cuda::pow_scalar<B>(s.n, a, kPow, y, nullptr); break;
      case Op::scale: cuda::scale<B>(s.n, kAlpha, a, y, nullptr); break;
      case Op::axpby: cuda::axpby<B>(s.n, kAlpha, a, kBeta, y, nullptr); break;
      case Op::axpy: cuda::axpby<B>(s.n, kAlpha, a, 1.0f, y, nullptr); break;
      case Op::add_relu: cuda::add_relu<B>(s.n, a, b, y, nullptr); break;
      case Op::transpose:
      case Op::broadcast: cuda::strided_copy<B>(copy_layout(s), a, y, nullptr); break;
      default: throw std::invalid_argument(std::string("elementwise: no CUDA version of ") + info(s.op).name);
    }
  });
}

KernelCase elementwise_case(const Spec& s) {
  const OpInfo op = info(s.op);
  KernelCase c;
  c.family = "elementwise";
  if (s.op == Op::transpose)
    c.name = std::string(op.name) + " " + std::to_string(s.rows) + "x" + std::to_string(s.n / s.rows);
  else
    c.name = std::string(op.name) + " n" + std::to_string(s.n);
  if (op.fast) c.versions.push_back("fast");
  if (op.cuda)
    for (const std::string& v : cuda_versions(s.emulator)) c.versions.push_back(v);
  c.preferred = op.fast ? "fast" : "";
  c.describe = describe_version;
  c.flops = op.flops * double(s.n);
  c.bytes = 4.0 * op.rw * double(s.n);
  c.atol = 1e-6;
  c.rtol = 1e-6;
  c.make_inputs = [s, op] {
    CaseData d;
    const std::vector<int64_t> shape = s.op == Op::transpose ? std::vector<int64_t>{s.rows, s.n / s.rows}
                                                             : std::vector<int64_t>{s.n};
    const std::vector<int64_t> x_shape = s.op == Op::broadcast ? std::vector<int64_t>{kBiasC} : shape;
    Buffer& x = d.inputs.emplace_back(s.op == Op::relu_backward ? "y" : "x", DType::f32, x_shape);
    const bool positive = s.op == Op::log || s.op == Op::sqrt || s.op == Op::pow;
    x.fill_uniform(1, positive ? 0.1 : -2, positive ? 3 : 2);
    if (!positive)
      for (int64_t i = 0; i < x.numel(); i += 7) x.set(i, 0);  // exact zeros: the ReLU kink
    if (s.op == Op::relu_backward)  // the forward output: max(x, 0)
      for (int64_t i = 0; i < x.numel(); ++i) x.set(i, std::max(x.get(i), 0.0));
    if (op.inputs > 1) {
      const int64_t nb = s.op == Op::bias_add ? kBiasC : s.n;
      Buffer& b = d.inputs.emplace_back(s.op == Op::relu_backward ? "dy" : s.op == Op::bias_add ? "bias" : "b",
                                        DType::f32, std::vector<int64_t>{nb});
      b.fill_uniform(2, s.op == Op::div ? 0.5 : -2, 2);
      if (s.op == Op::div)  // divisors of both signs, away from 0
        for (int64_t i = 1; i < b.numel(); i += 2) b.set(i, -b.get(i));
    }
    const int64_t batch = s.n / (kBiasC * kBiasHW);
    Buffer& y = d.outputs.emplace_back("y", DType::f32,
                                       s.op == Op::transpose   ? std::vector<int64_t>{s.n / s.rows, s.rows}
                                       : s.op == Op::broadcast ? std::vector<int64_t>{batch, kBiasC, kBiasHW}
                                                               : shape);
    if (s.op == Op::axpby || s.op == Op::axpy)
      y.fill_uniform(3, -2, 2);
    else
      y.fill(NAN);
    return d;
  };
  c.run = [s](const std::string& version, CaseData& d) {
    if (version == kReference)
      reference(s, d);
    else if (version == "fast")
      run_fast(s, d);
    else
      run_cuda(s, version, d);
  };
  return c;
}

constexpr Op kOps[] = {Op::relu, Op::relu_backward, Op::add,  Op::mul,       Op::div,      Op::scale,
                       Op::axpby, Op::axpy,        Op::add_relu, Op::exp, Op::log, Op::sqrt, Op::pow,
                       Op::bias_add, Op::transpose, Op::broadcast};

// About n elements for an op: bias_add and broadcast need a multiple of C·HW; transpose an odd number of
// rows near √n / 2 (so rows ≠ cols) times the columns that fit.
Spec spec(Op op, int64_t n, bool emulator) {
  if (op == Op::bias_add || op == Op::broadcast) n = std::max<int64_t>(1, n / (kBiasC * kBiasHW)) * kBiasC * kBiasHW;
  const int64_t rows = op == Op::transpose ? std::max<int64_t>(1, int64_t(std::sqrt(double(n)) / 2) | 1) : 1;
  if (op == Op::transpose) n = n / rows * rows;
  return {op, n, rows, emulator};
}

// Ragged sizes: 20011 > 64 blocks × 256 threads, so the emulator's grid-stride loops take a
// second lap.
std::vector<KernelCase> test_cases(const SuiteOptions& opt) {
  std::vector<int64_t> sizes{1, 31, 1000};
  if (!opt.quick) sizes.push_back(20011);
  std::vector<KernelCase> cases;
  for (Op op : kOps)
    for (int64_t n : sizes) cases.push_back(elementwise_case(spec(op, n, true)));
  return cases;
}

// A ResNet-18 (width 16, CIFAR) layer1 activation at batch 256, (256, 16, 32, 32), for the CPU
// (and GPU); then 64 Ki elements for the emulator.
std::vector<KernelCase> bench_cases(const SuiteOptions& opt) {
  const int64_t big = (opt.quick ? 32 : 256) * 16 * 32 * 32, small = opt.quick ? 16384 : 65536;
  std::vector<KernelCase> cases;
  for (Op op : kOps)
    for (const Spec& s : {spec(op, big, false), spec(op, small, true)}) {
      KernelCase c = elementwise_case(s);
      if (!c.versions.empty()) cases.push_back(std::move(c));
    }
  return cases;
}

}  // namespace

Family elementwise_family() {
  return {"elementwise",
          [](const SuiteOptions& opt) { return opt.suite == Suite::test ? test_cases(opt) : bench_cases(opt); }};
}

}  // namespace bt::cases
