// optim cases: the fused optimizer updates, f32, in place. The CPU kernels
// (kernels/cpu/optim_kernels.h) are plain fused loops and serve as their own reference: the
// reference runs them in double on the same values. Versions:
//   fast  bt::cpu::sgd_step / lars_* / adamw_step / ema_update in float
//   simt  bt::cuda::* (kernels/cuda/optim.h) on the SIMT emulator; cuda on a GPU
// The updated state (p, momentum buffers, Adam moments, the EMA target) are outputs that start
// at random previous values; LARS's device workspace is an input (scratch, guard zones checked).
#include <cmath>
#include <stdexcept>

#include "kernels/cases/cuda_buffers.h"
#include "kernels/cases/families.h"
#include "kernels/cpu/optim_kernels.h"
#include "kernels/cuda/optim.h"

namespace bt::cases {
namespace {

enum class Op { sgd, sgd_momentum, sgd_nesterov, lars, lars_clip, lars_excluded, adamw, ema };

struct Spec {
  Op op;
  int64_t n;
  bool emulator = true;
};

// Hyper-parameters: SimCLR/BYOL-like values.
constexpr float kSgdLr = 0.1f, kMomentum = 0.9f, kSgdWd = 5e-4f;
constexpr float kLarsLr = 0.3f, kLarsWd = 1e-2f;
constexpr double kLarsEta = 0.001, kLarsClipEta = 0.02;
constexpr float kAdamLr = 1e-3f, kBeta1 = 0.9f, kBeta2 = 0.999f, kAdamEps = 1e-8f, kAdamWd = 0.05f;
constexpr int64_t kAdamStep = 3;
constexpr float kTau = 0.99f;

struct OpInfo {
  const char* name;
  double flops, rw;  // per element: FLOPs, values read + written
  std::vector<const char*> state;  // the outputs, p first
};

OpInfo info(Op op) {
  switch (op) {
    case Op::sgd: return {"sgd_step", 3, 3, {"p"}};
    case Op::sgd_momentum: return {"sgd_step momentum", 6, 5, {"p", "buf"}};
    case Op::sgd_nesterov: return {"sgd_step nesterov", 8, 5, {"p", "buf"}};
    // pass 1 reads p, g (the squared norms: 6 FLOPs); pass 2 updates p, buf (6 FLOPs)
    case Op::lars: return {"lars_norms+lars_update", 12, 7, {"p", "buf"}};
    case Op::lars_clip: return {"lars_norms+lars_update clip", 12, 7, {"p", "buf"}};
    case Op::lars_excluded: return {"lars_update excluded", 4, 5, {"p", "buf"}};
    case Op::adamw: return {"adamw_step", 14, 7, {"p", "m", "v"}};
    case Op::ema: return {"ema_update", 3, 3, {"target"}};
  }
  return {};
}

// LARS's trust-ratio η, and whether the update is clipped.
double lars_eta(Op op) { return op == Op::lars_clip ? kLarsClipEta : kLarsEta; }

// The update on values of type T (p.. are the outputs, g the gradient or the online weights).
template <class T>
void run_cpu(Op op, int64_t n, const T* g, const std::vector<T*>& out) {
  T* p = out[0];
  switch (op) {
    case Op::sgd: cpu::sgd_step<T>(n, p, g, nullptr, kSgdLr, 0, kSgdWd, false, false); break;
    case Op::sgd_momentum: cpu::sgd_step<T>(n, p, g, out[1], kSgdLr, kMomentum, kSgdWd, false, false); break;
    case Op::sgd_nesterov: cpu::sgd_step<T>(n, p, g, out[1], kSgdLr, kMomentum, kSgdWd, true, false); break;
    case Op::lars:
    case Op::lars_clip: {
      double p2 = 0, d2 = 0;
      cpu::lars_norms<T>(n, p, g, kLarsWd, &p2, &d2);
      const double q = cpu::lars_trust_ratio(std::sqrt(p2), std::sqrt(d2), lars_eta(op), kLarsLr, op == Op::lars_clip);
      cpu::lars_update<T>(n, p, g, out[1], kLarsLr, kMomentum, kLarsWd, T(q));
      break;
    }
    case Op::lars_excluded: cpu::lars_update<T>(n, p, g, out[1], kLarsLr, kMomentum, 0, 1); break;
    case Op::adamw:
      cpu::adamw_step<T>(n, p, g, out[1], out[2], kAdamLr, kBeta1, kBeta2, kAdamEps, kAdamWd, kAdamStep);
      break;
    case Op::ema: cpu::ema_update<T>(n, p, g, kTau); break;
  }
}

template <class B>
void run_cuda(Op op, int64_t n, const KernelPointers& ptr) {
  const float* g = ptr.in<float>(0);
  float* p = ptr.out<float>(0);
  switch (op) {
    case Op::sgd: cuda::sgd_step<B>(n, p, g, nullptr, kSgdLr, 0, kSgdWd, false, false, nullptr); break;
    case Op::sgd_momentum:
      cuda::sgd_step<B>(n, p, g, ptr.out<float>(1), kSgdLr, kMomentum, kSgdWd, false, false, nullptr);
      break;
    case Op::sgd_nesterov:
      cuda::sgd_step<B>(n, p, g, ptr.out<float>(1), kSgdLr, kMomentum, kSgdWd, true, false, nullptr);
      break;
    case Op::lars:
    case Op::lars_clip: {
      double* ws = ptr.in<double>(1);  // the trust ratio's norms stay on the device
      cuda::lars_norms<B>(n, p, g, kLarsWd, ws, nullptr);
      cuda::lars_update<B>(n, p, g, ptr.out<float>(1), kLarsLr, kMomentum, kLarsWd, ws, lars_eta(op),
                           op == Op::lars_clip, nullptr);
      break;
    }
    case Op::lars_excluded:
      cuda::lars_update<B>(n, p, g, ptr.out<float>(1), kLarsLr, kMomentum, 0, nullptr, 1, false, nullptr);
      break;
    case Op::adamw:
      cuda::adamw_step<B>(n, p, g, ptr.out<float>(1), ptr.out<float>(2), kAdamLr, kBeta1, kBeta2, kAdamEps, kAdamWd,
                          kAdamStep, nullptr);
      break;
    case Op::ema: cuda::ema_update<B>(n, p, g, kTau, nullptr); break;
  }
}

KernelCase optim_case(const Spec& s) {
  const OpInfo op = info(s.op);
  KernelCase c = fast_and_cuda_case("optim", std::string(op.name) + " n" + std::to_string(s.n), s.emulator);
  c.flops = op.flops * double(s.n);
  c.bytes = 4.0 * op.rw * double(s.n);
  c.atol = 1e-6;
  c.rtol = 1e-5;
  const bool lars = s.op == Op::lars || s.op == Op::lars_clip || s.op == Op::lars_excluded;
  c.make_inputs = [s, op, lars] {
    CaseData d;
    const std::vector<int64_t> shape{s.n};
    const double g_range = lars ? 0.1 : 2;  // LARS: gradients small against the weights
    d.inputs.emplace_back(s.op == Op::ema ? "online" : "g", DType::f32, shape).fill_uniform(1, -g_range, g_range);
    if (lars) d.inputs.emplace_back("workspace", DType::f64, std::vector<int64_t>{cuda::kLarsWorkspace}).fill(0);
    for (size_t k = 0; k < op.state.size(); ++k) {
      const std::string name = op.state[k];
      Buffer& b = d.outputs.emplace_back(name, DType::f32, shape);
      // Adam's v is positive and not tiny (√v is divided by); m and buf are small.
      if (name == "v")
        b.fill_uniform(10 + k, 1e-4, 1e-2);
      else if (k > 0)
        b.fill_uniform(10 + k, -0.1, 0.1);
      else
        b.fill_uniform(10 + k, -2, 2);
    }
    return d;
  };
  c.run = [s](const std::string& version, CaseData& d) {
    if (version == kReference) {
      const std::vector<double> g = d.inputs[0].values();
      std::vector<std::vector<double>> state;
      std::vector<double*> out;
      for (const Buffer& b : d.outputs) state.push_back(b.values());
      for (std::vector<double>& v : state) out.push_back(v.data());
      run_cpu<double>(s.op, s.n, g.data(), out);
      for (size_t k = 0; k < state.size(); ++k) d.outputs[k].set_values(state[k]);
    } else if (version == "fast") {
      std::vector<float*> out;
      for (Buffer& b : d.outputs) out.push_back(b.data<float>());
      run_cpu<float>(s.op, s.n, d.inputs[0].data<float>(), out);
    } else {
      run_cuda_version(version, d, [&]<class B>(B, const KernelPointers& p) { run_cuda<B>(s.op, s.n, p); });
    }
  };
  return c;
}

constexpr Op kOps[] = {Op::sgd,           Op::sgd_momentum, Op::sgd_nesterov, Op::lars,
                       Op::lars_clip,     Op::lars_excluded, Op::adamw,       Op::ema};

// 20011 > 64 blocks × 256 threads: the emulator's grid-stride loops take a second lap.
std::vector<KernelCase> test_cases(const SuiteOptions& opt) {
  std::vector<int64_t> sizes{1, 37, 1000};
  if (!opt.quick) sizes.push_back(20011);
  std::vector<KernelCase> cases;
  for (Op op : kOps)
    for (int64_t n : sizes) cases.push_back(optim_case({op, n}));
  return cases;
}

// One SSL projector Linear (2048 × 2048 weights) for the CPU (and GPU), 64 Ki for the emulator.
std::vector<KernelCase> bench_cases(const SuiteOptions& opt) {
  std::vector<KernelCase> cases;
  for (Op op : kOps) {
    cases.push_back(optim_case({op, opt.quick ? 512 * 2048 : 2048 * 2048, false}));
    cases.push_back(optim_case({op, opt.quick ? 16384 : 65536}));
  }
  return cases;
}

}  // namespace

Family optim_family() {
  return {"optim", [](const SuiteOptions& opt) { return opt.suite == Suite::test ? test_cases(opt) : bench_cases(opt); }};
}

}  // namespace bt::cases
