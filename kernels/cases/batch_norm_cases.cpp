// batch_norm cases: BatchNorm over (N, C, HW), f32, training and eval, forward and backward,
// with and without the affine γ, β and the fused ReLU, against bt::cpu::batch_norm_*_ref in
// double (the fused BN + ReLU reference: the BN reference, then max(0, ·) forward or the dy
// mask y > 0 backward). Versions:
//   fast  bt::cpu::batch_norm_* (kernels/cpu/batch_norm.h)
//   simt  bt::cuda::batch_norm_* (kernels/cuda/batch_norm.h) on the SIMT emulator; cuda on a GPU
// Cases named "nChw16c" hold the activations in that layout (kernels/cpu/channel_layout.h),
// for the CPU kernels and the (layout-aware) reference alone.
// eps = 1e-5, momentum = 0.1. The running statistics are updated in place: outputs that start
// at their (random) previous values. The backward's saved statistics (and the ReLU output) are
// inputs, made by the double reference forward and rounded to f32.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kernels/cases/cuda_buffers.h"
#include "kernels/cases/families.h"
#include "kernels/cpu/batch_norm.h"
#include "kernels/cuda/batch_norm.h"

namespace bt::cases {
namespace {

enum class Pass { train_forward, train_backward, eval_forward, eval_backward };

struct Spec {
  Pass pass;
  bool relu, affine;  // relu: training passes only
  int64_t N, C, HW;
  bool emulator = true;
  cpu::ChannelLayout layout = cpu::ChannelLayout::nchw;
};

constexpr float kEps = 1e-5f, kMomentum = 0.1f;

std::string spec_name(const Spec& s) {
  static const char* const pass[] = {"train_forward", "train_backward", "eval_forward", "eval_backward"};
  return std::string(s.relu ? "bn_relu " : "bn ") + pass[int(s.pass)] + " N" + std::to_string(s.N) + " C" +
         std::to_string(s.C) + " HW" + std::to_string(s.HW) + (s.affine ? " affine" : "") +
         (s.layout == cpu::ChannelLayout::nChw16c ? " nChw16c" : "");
}

// Every pass's buffers, in order (names as in kernels/cpu/batch_norm.h):
//   train_forward   in: x, gamma, beta                              out: y, save_mean, save_invstd,
//                                                                        running_mean, running_var
//   train_backward  in: dy, x, gamma, save_mean, save_invstd (, y)  out: dx, dgamma, dbeta
//   eval_forward    in: x, gamma, beta, running_mean, running_var   out: y
//   eval_backward   in: dy, x, gamma, running_mean, running_var     out: dx, dgamma, dbeta
CaseData make_inputs(const Spec& s) {
  const std::vector<int64_t> act{s.N, s.C, s.HW}, ch{s.C};
  CaseData d;
  d.inputs.reserve(6);  // x and gamma are referenced below while inputs are added
  auto in = [&](const char* name, const std::vector<int64_t>& shape, uint64_t seed, double lo, double hi) -> Buffer& {
    Buffer& b = d.inputs.emplace_back(name, DType::f32, shape);
    b.fill_uniform(seed, lo, hi);
    return b;
  };
  const bool backward = s.pass == Pass::train_backward || s.pass == Pass::eval_backward;
  if (backward) in("dy", act, 1, -2, 2);
  const Buffer& x = in("x", act, 2, -1, 3);  // a non-zero mean
  const Buffer& gamma = in("gamma", ch, 3, 0.5, 1.5);
  if (!backward) in("beta", ch, 4, -2, 2);
  if (s.pass == Pass::train_backward) {
    // The saved statistics and the ReLU output of the forward (with β = 0), by the reference.
    const int64_t n = s.N * s.C * s.HW;
    std::vector<double> xd = x.values(), gd = gamma.values(), y(static_cast<size_t>(n)), mean(static_cast<size_t>(s.C)),
        invstd(static_cast<size_t>(s.C));
    cpu::batch_norm_forward_train_ref<double>(s.N, s.C, s.HW, xd.data(), s.affine ? gd.data() : nullptr, nullptr,
                                              kEps, kMomentum, y.data(), mean.data(), invstd.data(), nullptr, nullptr,
                                              s.layout);
    d.inputs.emplace_back("save_mean", DType::f32, ch).set_values(mean);
    d.inputs.emplace_back("save_invstd", DType::f32, ch).set_values(invstd);
    if (s.relu) {
      for (double& v : y) v = std::max(v, 0.0);
      d.inputs.emplace_back("y", DType::f32, act).set_values(y);
    }
  }
  if (s.pass == Pass::eval_forward || s.pass == Pass::eval_backward) {
    in("running_mean", ch, 5, -2, 2);
    in("running_var", ch, 6, 0.5, 2);
  }
  auto out = [&](const char* name, const std::vector<int64_t>& shape) -> Buffer& {
    Buffer& b = d.outputs.emplace_back(name, DType::f32, shape);
    b.fill(NAN);
    return b;
  };
  if (backward) {
    out("dx", act);
    out("dgamma", ch);
    out("dbeta", ch);
  } else {
    out("y", act);
  }
  if (s.pass == Pass::train_forward) {
    out("save_mean", ch);
    out("save_invstd", ch);
    d.outputs.emplace_back("running_mean", DType::f32, ch).fill_uniform(5, -2, 2);
    d.outputs.emplace_back("running_var", DType::f32, ch).fill_uniform(6, 0.5, 2);
  }
  return d;
}

void run_reference(const Spec& s, CaseData& d) {
  std::vector<std::vector<double>> in, out;
  for (const Buffer& b : d.inputs) in.push_back(b.values());
  for (const Buffer& b : d.outputs) out.push_back(b.values());
  auto affine = [&](size_t i) { return s.affine ? in[i].data() : nullptr; };  // gamma or beta
  switch (s.pass) {
    case Pass::train_forward:
      cpu::batch_norm_forward_train_ref<double>(s.N, s.C, s.HW, in[0].data(), affine(1), affine(2), kEps, kMomentum,
                                                out[0].data(), out[1].data(), out[2].data(), out[3].data(),
                                                out[4].data(), s.layout);
      if (s.relu)
        for (double& v : out[0]) v = std::max(v, 0.0);
      break;
    case Pass::train_backward:
      if (s.relu)  // dy masked by the forward output
        for (size_t i = 0; i < in[0].size(); ++i) in[0][i] = in[5][i] > 0 ? in[0][i] : 0.0;
      cpu::batch_norm_backward_train_ref<double>(s.N, s.C, s.HW, in[0].data(), in[1].data(), affine(2), in[3].data(),
                                                 in[4].data(), out[0].data(), out[1].data(), out[2].data(), s.layout);
      break;
    case Pass::eval_forward:
      cpu::batch_norm_forward_eval_ref<double>(s.N, s.C, s.HW, in[0].data(), affine(1), affine(2), in[3].data(),
                                               in[4].data(), kEps, out[0].data(), s.layout);
      break;
    case Pass::eval_backward:
      cpu::batch_norm_backward_eval_ref<double>(s.N, s.C, s.HW, in[0].data(), in[1].data(), affine(2), in[3].data(),
                                                in[4].data(), kEps, out[0].data(), out[1].data(), out[2].data(),
                                                s.layout);
      break;
  }
  for (size_t o = 0; o < out.size(); ++o) d.outputs[o].set_values(out[o]);
}

// The CPU fast path (Api = CpuApi) and the CUDA launchers (Api = cuda::Simt or cuda::Gpu): one
// body for both, on host or device pointers p.
template <class Api>
void run_kernels(const Spec& s, const KernelPointers& p) {
  const float* gamma = s.affine ? p.in<float>(s.pass == Pass::train_backward || s.pass == Pass::eval_backward ? 2 : 1)
                                : nullptr;
  const float* beta = s.affine ? p.in<float>(2) : nullptr;  // forward passes only
  constexpr bool cpu = std::is_same_v<Api, CpuApi>;
  switch (s.pass) {
    case Pass::train_forward: {
      const float* x = p.in<float>(0);
      float *y = p.out<float>(0), *mean = p.out<float>(1), *invstd = p.out<float>(2), *rm = p.out<float>(3),
            *rv = p.out<float>(4);
      if constexpr (cpu) {
        (s.relu ? cpu::batch_norm_relu_forward_train<float> : cpu::batch_norm_forward_train<float>)(
            s.N, s.C, s.HW, x, gamma, beta, kEps, kMomentum, y, mean, invstd, rm, rv, s.layout, nullptr);
      } else {
        (s.relu ? cuda::batch_norm_relu_forward_train<Api> : cuda::batch_norm_forward_train<Api>)(
            s.N, s.C, s.HW, x, gamma, beta, kEps, kMomentum, y, mean, invstd, rm, rv, nullptr);
      }
      break;
    }
    case Pass::train_backward: {
      const float *dy = p.in<float>(0), *x = p.in<float>(1), *mean = p.in<float>(3), *invstd = p.in<float>(4);
      float *dx = p.out<float>(0), *dg = p.out<float>(1), *db = p.out<float>(2);
      if constexpr (cpu) {
        if (s.relu)
          cpu::batch_norm_relu_backward_train<float>(s.N, s.C, s.HW, dy, x, p.in<float>(5), gamma, mean, invstd, dx,
                                                     dg, db, s.layout);
        else
          cpu::batch_norm_backward_train<float>(s.N, s.C, s.HW, dy, x, gamma, mean, invstd, dx, dg, db, s.layout);
      } else {
        if (s.relu)
          cuda::batch_norm_relu_backward_train<Api>(s.N, s.C, s.HW, dy, x, p.in<float>(5), gamma, mean, invstd, dx,
                                                    dg, db, nullptr);
        else
          cuda::batch_norm_backward_train<Api>(s.N, s.C, s.HW, dy, x, gamma, mean, invstd, dx, dg, db, nullptr);
      }
      break;
    }
    case Pass::eval_forward: {
      const float *x = p.in<float>(0), *rm = p.in<float>(3), *rv = p.in<float>(4);
      if constexpr (cpu)
        cpu::batch_norm_forward_eval<float>(s.N, s.C, s.HW, x, gamma, beta, rm, rv, kEps, p.out<float>(0), s.layout);
      else
        cuda::batch_norm_forward_eval<Api>(s.N, s.C, s.HW, x, gamma, beta, rm, rv, kEps, p.out<float>(0), nullptr);
      break;
    }
    case Pass::eval_backward: {
      const float *dy = p.in<float>(0), *x = p.in<float>(1), *rm = p.in<float>(3), *rv = p.in<float>(4);
      float *dx = p.out<float>(0), *dg = p.out<float>(1), *db = p.out<float>(2);
      if constexpr (cpu)
        cpu::batch_norm_backward_eval<float>(s.N, s.C, s.HW, dy, x, gamma, rm, rv, kEps, dx, dg, db, s.layout);
      else
        cuda::batch_norm_backward_eval<Api>(s.N, s.C, s.HW, dy, x, gamma, rm, rv, kEps, dx, dg, db, nullptr);
      break;
    }
  }
}

KernelCase bn_case(const Spec& s) {
  KernelCase c = fast_and_cuda_case("batch_norm", spec_name(s), s.emulator);
  if (s.layout == cpu::ChannelLayout::nChw16c) c.versions = {"fast"};  // the CUDA kernels are NCHW
  // FLOPs per element: training forward Σx, Σ(x − mean)², normalize + affine ≈ 8; training
  // backward Σdy, Σdy·x̂ (x̂ recomputed), dx ≈ 10; eval forward one fma ≈ 2; eval backward
  // dx, x̂, Σdy·x̂, Σdy ≈ 6; the ReLU 1 more. Bytes: activations read and written once.
  const double n = double(s.N * s.C * s.HW);
  static const double flops[] = {8, 10, 2, 6}, acts[] = {2, 3, 2, 3};
  c.flops = n * (flops[int(s.pass)] + (s.relu ? 1 : 0));
  c.bytes = 4.0 * (n * (acts[int(s.pass)] + (s.relu && s.pass == Pass::train_backward ? 1 : 0)) + 5.0 * double(s.C));
  // dgamma, dbeta are sums over M = N·HW terms: float error grows like √M.
  const double M = double(s.N * s.HW);
  c.atol = s.pass == Pass::train_backward || s.pass == Pass::eval_backward ? 1e-5 * std::sqrt(M) : 1e-5;
  c.rtol = 1e-4;
  c.make_inputs = [s] { return make_inputs(s); };
  c.run = api_template_run([s](CaseData& d) { run_reference(s, d); },
                           [s]<class B>(B, const KernelPointers& p) { run_kernels<B>(s, p); });
  return c;
}

void add_passes(std::vector<KernelCase>& cases, int64_t N, int64_t C, int64_t HW, bool emulator, bool affine,
                cpu::ChannelLayout layout = cpu::ChannelLayout::nchw) {
  for (bool relu : {false, true}) {
    cases.push_back(bn_case({Pass::train_forward, relu, affine, N, C, HW, emulator, layout}));
    cases.push_back(bn_case({Pass::train_backward, relu, affine, N, C, HW, emulator, layout}));
  }
  cases.push_back(bn_case({Pass::eval_forward, false, affine, N, C, HW, emulator, layout}));
  cases.push_back(bn_case({Pass::eval_backward, false, affine, N, C, HW, emulator, layout}));
}

// Ragged: HW = 1 is BatchNorm1d; M = 2·300 > 256 threads takes a second lap on the device;
// C = 70 channels.
std::vector<KernelCase> test_cases(const SuiteOptions& opt) {
  struct Shape {
    int64_t N, C, HW;
  };
  std::vector<Shape> shapes{{3, 5, 7}, {4, 3, 1}, {2, 4, 33}};
  if (!opt.quick) shapes.insert(shapes.end(), {{2, 2, 300}, {5, 70, 1}});
  std::vector<KernelCase> cases;
  for (const Shape& sh : shapes)
    for (bool affine : {true, false}) add_passes(cases, sh.N, sh.C, sh.HW, true, affine);
  // nChw16c: one channel block, and three blocks of a ragged plane (HW = 1 is the NCHW layout).
  for (bool affine : {true, false}) {
    add_passes(cases, 3, 16, 7, false, affine, cpu::ChannelLayout::nChw16c);
    add_passes(cases, 2, 48, 33, false, affine, cpu::ChannelLayout::nChw16c);
  }
  return cases;
}

// ResNet-18 width 16 on CIFAR at batch 256: layer1 (16 channels of 32×32) and layer4 (128 of
// 4×4), each in NCHW and nChw16c, and the SSL projector's BatchNorm1d (2048 features); then the emulator at (8, 16, 256).
std::vector<KernelCase> bench_cases(const SuiteOptions& opt) {
  const int64_t batch = opt.quick ? 32 : 256;
  std::vector<KernelCase> cases;
  add_passes(cases, batch, 16, 1024, false, true);
  add_passes(cases, batch, 16, 1024, false, true, cpu::ChannelLayout::nChw16c);
  add_passes(cases, batch, 128, 16, false, true);
  add_passes(cases, batch, 128, 16, false, true, cpu::ChannelLayout::nChw16c);
  add_passes(cases, batch, 2048, 1, false, true);
  add_passes(cases, opt.quick ? 4 : 8, 16, 256, true, true);
  return cases;
}

}  // namespace

Family batch_norm_family() {
  return {"batch_norm",
          [](const SuiteOptions& opt) { return opt.suite == Suite::test ? test_cases(opt) : bench_cases(opt); }};
}

}  // namespace bt::cases
