// pool cases: max pooling (forward with argmax indices, backward from the indices) and global
// average pooling, f32 over NCHW, against bt::cpu::*_ref in double (the max-pool backward
// reference recomputes the argmax from x). Versions:
//   fast  bt::cpu::max_pool2d_* / global_avg_pool_* (kernels/cpu/pool.h)
//   simt  bt::cuda::* (kernels/cuda/pool.h) on the SIMT emulator; cuda on a GPU
// x holds values on a grid of 0.5, so windows hold ties (the first maximum wins), and one NaN
// (it propagates; the last NaN of a window wins): y there is NaN (not compared), its index is.
#include <cmath>
#include <stdexcept>

#include "kernels/cases/cuda_buffers.h"
#include "kernels/cases/families.h"
#include "kernels/cpu/pool.h"
#include "kernels/cuda/pool.h"

namespace bt::cases {
namespace {

enum class Op { max_forward, max_backward, avg_forward, avg_backward };

// The window of the global average pool cases: unused, but a valid (identity) window.
constexpr cpu::PoolWindow kNoWindow{1, 1, 1, 1, 0, 0};

struct Spec {
  Op op;
  int64_t N, C, H, W;  // avg: HW = H·W
  cpu::PoolWindow win = kNoWindow;
  bool emulator = true;
};

std::string spec_name(const Spec& s) {
  auto i = [](int64_t v) { return std::to_string(v); };
  const cpu::PoolWindow& w = s.win;
  const std::string shape = i(s.N) + "x" + i(s.C) + "x" + i(s.H) + "x" + i(s.W);
  const std::string win =
      shape + " k" + i(w.kh) + "x" + i(w.kw) + " s" + i(w.sh) + "," + i(w.sw) + " p" + i(w.ph) + "," + i(w.pw);
  switch (s.op) {
    case Op::max_forward: return "max_pool2d forward " + win;
    case Op::max_backward: return "max_pool2d backward " + win;
    case Op::avg_forward: return "global_avg_pool forward " + shape;
    case Op::avg_backward: return "global_avg_pool backward " + shape;
  }
  return "";
}

// Buffers: max_forward  in x                 out y, indices (i32)
//          max_backward in x, indices, dy    out dx
//          avg_forward  in x (N, C, HW)      out y (N, C)
//          avg_backward in dy (N, C)         out dx (N, C, HW)
CaseData make_inputs(const Spec& s) {
  const int64_t OH = s.win.out_h(s.H), OW = s.win.out_w(s.W), n = s.N * s.C * s.H * s.W;
  const std::vector<int64_t> x_shape{s.N, s.C, s.H, s.W}, y_shape{s.N, s.C, OH, OW}, avg_shape{s.N, s.C};
  CaseData d;
  if (s.op == Op::avg_backward) {
    d.inputs.emplace_back("dy", DType::f32, avg_shape).fill_uniform(2, -2, 2);
    d.outputs.emplace_back("dx", DType::f32, x_shape).fill(NAN);
    return d;
  }
  Buffer& x = d.inputs.emplace_back("x", DType::f32, x_shape);
  x.fill_uniform(1, -2, 2);
  if (s.op == Op::avg_forward) {
    d.outputs.emplace_back("y", DType::f32, avg_shape).fill(NAN);
    return d;
  }
  for (int64_t i = 0; i < n; ++i) x.set(i, std::round(2 * x.get(i)) / 2);
  x.set(n / 2, NAN);
  if (s.op == Op::max_forward) {
    d.outputs.emplace_back("y", DType::f32, y_shape).fill(NAN);
    d.outputs.emplace_back("indices", DType::i32, y_shape).fill(-1);
    return d;
  }
  // The backward's indices: the reference forward's argmax.
  std::vector<double> y(size_t(s.N * s.C * OH * OW));
  Buffer indices("indices", DType::i32, y_shape);
  cpu::max_pool2d_forward_ref<double>(s.N, s.C, s.H, s.W, s.win, x.values().data(), y.data(), indices.data<int32_t>());
  d.inputs.push_back(std::move(indices));
  d.inputs.emplace_back("dy", DType::f32, y_shape).fill_uniform(2, -2, 2);
  d.outputs.emplace_back("dx", DType::f32, x_shape).fill(NAN);
  return d;
}

void run_reference(const Spec& s, CaseData& d) {
  const std::vector<double> x = d.inputs[0].values();
  std::vector<double> y(size_t(d.outputs[0].numel()));
  switch (s.op) {
    case Op::max_forward: {
      Buffer& indices = d.outputs[1];
      cpu::max_pool2d_forward_ref<double>(s.N, s.C, s.H, s.W, s.win, x.data(), y.data(), indices.data<int32_t>());
      break;
    }
    case Op::max_backward:
      cpu::max_pool2d_backward_ref<double>(s.N, s.C, s.H, s.W, s.win, x.data(), d.inputs[2].values().data(), y.data());
      break;
    case Op::avg_forward: cpu::global_avg_pool_forward_ref<double>(s.N, s.C, s.H * s.W, x.data(), y.data()); break;
    case Op::avg_backward: cpu::global_avg_pool_backward_ref<double>(s.N, s.C, s.H * s.W, x.data(), y.data()); break;
  }
  d.outputs[0].set_values(y);
}

// The CPU fast path (Api = CpuApi) and the CUDA launchers (Api = cuda::Simt or cuda::Gpu): one
// body for both, on host or device pointers p.
template <class Api>
void run_kernels(const Spec& s, const KernelPointers& p) {
  constexpr bool cpu = std::is_same_v<Api, CpuApi>;
  const int64_t HW = s.H * s.W;
  switch (s.op) {
    case Op::max_forward:
      if constexpr (cpu)
        cpu::max_pool2d_forward<float>(s.N, s.C, s.H, s.W, s.win, p.in<float>(0), p.out<float>(0), p.out<int32_t>(1));
      else
        cuda::max_pool2d_forward<Api>(s.N, s.C, s.H, s.W, s.win, p.in<float>(0), p.out<float>(0), p.out<int32_t>(1),
                                      nullptr);
      break;
    case Op::max_backward:
      if constexpr (cpu)
        cpu::max_pool2d_backward<float>(s.N, s.C, s.H, s.W, s.win, p.in<int32_t>(1), p.in<float>(2), p.out<float>(0));
      else
        cuda::max_pool2d_backward<Api>(s.N, s.C, s.H, s.W, s.win, p.in<int32_t>(1), p.in<float>(2), p.out<float>(0),
                                       nullptr);
      break;
    case Op::avg_forward:
      if constexpr (cpu)
        cpu::global_avg_pool_forward<float>(s.N, s.C, HW, p.in<float>(0), p.out<float>(0));
      else
        cuda::global_avg_pool_forward<Api>(s.N, s.C, HW, p.in<float>(0), p.out<float>(0), nullptr);
      break;
    case Op::avg_backward:
      if constexpr (cpu)
        cpu::global_avg_pool_backward<float>(s.N, s.C, HW, p.in<float>(0), p.out<float>(0));
      else
        cuda::global_avg_pool_backward<Api>(s.N, s.C, HW, p.in<float>(0), p.out<float>(0), nullptr);
      break;
  }
}

KernelCase pool_case(const Spec& s) {
  KernelCase c = fast_and_cuda_case("pool", spec_name(s), s.emulator);
  // FLOPs: a comparison per window tap (max forward), an add per input (average forward),
  // none for the backward scatters. Bytes: inputs read, outputs written (indices 4 bytes).
  const double n = double(s.N * s.C * s.H * s.W), m = double(s.N * s.C * s.win.out_h(s.H) * s.win.out_w(s.W)),
               planes = double(s.N * s.C);
  switch (s.op) {
    case Op::max_forward: c.flops = m * double(s.win.kh * s.win.kw), c.bytes = 4 * (n + 2 * m); break;
    case Op::max_backward: c.flops = 0, c.bytes = 4 * (2 * m + n); break;
    case Op::avg_forward: c.flops = n, c.bytes = 4 * (n + planes); break;
    case Op::avg_backward: c.flops = n, c.bytes = 4 * (planes + n); break;
  }
  // Max pooling selects values (exact); the backward adds at most kh·kw of them per input; the
  // average sums H·W values.
  c.atol = s.op == Op::max_forward ? 0 : 1e-6;
  c.rtol = s.op == Op::max_forward ? 0 : 1e-5;
  c.make_inputs = [s] { return make_inputs(s); };
  c.run = api_template_run([s](CaseData& d) { run_reference(s, d); },
                           [s]<class B>(B, const KernelPointers& p) { run_kernels<B>(s, p); });
  return c;
}

void add_ops(std::vector<KernelCase>& cases, int64_t N, int64_t C, int64_t H, int64_t W,
             const std::vector<cpu::PoolWindow>& windows, bool emulator) {
  for (const cpu::PoolWindow& w : windows)
    for (Op op : {Op::max_forward, Op::max_backward}) cases.push_back(pool_case({op, N, C, H, W, w, emulator}));
  for (Op op : {Op::avg_forward, Op::avg_backward}) cases.push_back(pool_case({op, N, C, H, W, kNoWindow, emulator}));
}

// Ragged planes; windows: ResNet's stem (3, 2, 1), overlapping at stride 1, disjoint 2×2,
// rectangular with padding.
std::vector<KernelCase> test_cases(const SuiteOptions& opt) {
  std::vector<cpu::PoolWindow> windows{{3, 3, 2, 2, 1, 1}, {2, 2, 2, 2, 0, 0}};
  if (!opt.quick) windows.insert(windows.end(), {{3, 3, 1, 1, 1, 1}, {2, 3, 1, 2, 1, 1}});
  std::vector<KernelCase> cases;
  add_ops(cases, 3, 5, 7, 9, windows, true);
  if (!opt.quick) add_ops(cases, 2, 3, 1, 1, {kNoWindow}, true);  // 1×1 planes, the identity window
  return cases;
}

// ResNet-18 width 16 at batch 256: the ImageNet-style stem's max pool (3, 2, 1) on 16 planes of
// 64×64, the global average pool of layer4 (128 planes of 4×4); then the emulator at 4×16×32×32.
std::vector<KernelCase> bench_cases(const SuiteOptions& opt) {
  const int64_t batch = opt.quick ? 32 : 256;
  const cpu::PoolWindow stem{3, 3, 2, 2, 1, 1};
  std::vector<KernelCase> cases;
  for (Op op : {Op::max_forward, Op::max_backward}) cases.push_back(pool_case({op, batch, 16, 64, 64, stem, false}));
  for (Op op : {Op::avg_forward, Op::avg_backward})
    cases.push_back(pool_case({op, batch, 128, 4, 4, kNoWindow, false}));
  add_ops(cases, opt.quick ? 2 : 4, 16, 32, 32, {stem}, true);
  return cases;
}

}  // namespace

Family pool_family() {
  return {"pool", [](const SuiteOptions& opt) { return opt.suite == Suite::test ? test_cases(opt) : bench_cases(opt); }};
}

}  // namespace bt::cases
