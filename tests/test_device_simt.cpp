// The simt device (docs/simt.md): every differentiable op, forward and backward, on simt tensors
// (the CUDA kernels run by the emulator, GEMM = gemm.cu, conv = conv2d.cu, all in the emulator's
// device arena) equals the same op on the cpu device, inputs copied with Tensor::to(Device::simt);
// float64 (but for the counter kernel) and mixed devices fail with clear errors; the optimizers, the EMA update and the fused SSL losses match; one
// training step of a ResNet-18 (CIFAR stem) with a Linear head and an MSE loss under LARS, and
// one step of each SSL method, match the cpu step: the loss and every parameter and buffer.
#include <catch2/catch.hpp>
#include <omp.h>

#include <cmath>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/nn/linear.h"
#include "engine/ops.h"
#include "engine/optim/adamw.h"
#include "engine/optim/ema.h"
#include "engine/optim/lars.h"
#include "engine/optim/param_groups.h"
#include "engine/optim/sgd.h"
#include "engine/rng.h"
#include "methods/barlow_twins/barlow_twins_loss.h"
#include "methods/common/regression_loss.h"
#include "methods/method.h"
#include "methods/simclr/simclr_loss.h"
#include "models/resnet.h"

using namespace bt;

namespace {

// |simt − cpu| <= atol + rtol·|cpu| elementwise; reports the first mismatches.
void check_same(const std::string& what, const Tensor& simt, const Tensor& cpu, double atol,
                double rtol) {
  REQUIRE(simt.defined() == cpu.defined());
  if (!cpu.defined()) return;
  INFO(what);
  REQUIRE(simt.device() == Device::simt);
  REQUIRE(cpu.device() == Device::cpu);
  REQUIRE(simt.shape() == cpu.shape());
  const std::vector<double> a = simt.to_vector(), b = cpu.to_vector();
  size_t bad = 0;
  std::ostringstream first;
  for (size_t i = 0; i < b.size(); ++i)
    if (!(std::abs(a[i] - b[i]) <= atol + rtol * std::abs(b[i]))) {
      if (bad < 5) first << "  [" << i << "] simt " << a[i] << " cpu " << b[i] << "\n";
      ++bad;
    }
  INFO(bad << " of " << b.size() << " mismatches\n" << first.str());
  CHECK(bad == 0);
}

// An absolute tolerance for a whole SSL step: a BN bias gradient is a sum of N·H·W terms that
// largely cancel, so float32 summation in another order (the emulated block reductions vs the
// CPU loops) leaves errors relative to the terms, not to the result: seen up to 1.4e-3 of the
// tensor's largest entry for Barlow Twins (N = 8, 16×16). A wrong kernel is off by O(1).
double cancellation_atol(const Tensor& cpu) {
  double max_abs = 0;
  for (double v : cpu.to_vector()) max_abs = std::max(max_abs, std::abs(v));
  return 1e-5 + 5e-3 * max_abs;
}

// A simt leaf with the values of a cpu tensor.
Tensor simt_leaf(const Tensor& t, bool grad) {
  Tensor s = t.detach().to(Device::simt);
  if (grad) s.requires_grad_();
  return s;
}

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Runs f on cpu inputs and on their simt copies; L = Σ f(x) ⊙ W (W random) backpropagates to
// every input that requires a gradient. Compares outputs and gradients.
void check_op(const std::string& name, const Fn& f, const std::vector<Tensor>& cpu_inputs,
              double atol = 1e-5, double rtol = 1e-4) {
  std::vector<Tensor> simt_inputs;
  for (const Tensor& x : cpu_inputs) {
    if (x.defined()) x.zero_grad();
    simt_inputs.push_back(x.defined() ? simt_leaf(x, x.requires_grad()) : Tensor());
  }
  const Tensor yc = f(cpu_inputs), ys = f(simt_inputs);
  check_same(name + ": forward", ys, yc, atol, rtol);
  if (!yc.requires_grad()) return;
  Rng rng(7);
  const Tensor w = randn(yc.shape(), rng);
  sum(mul(yc, w)).backward();
  sum(mul(ys, w.to(Device::simt))).backward();
  for (size_t i = 0; i < cpu_inputs.size(); ++i)
    if (cpu_inputs[i].defined() && cpu_inputs[i].requires_grad())
      check_same(name + ": gradient of input " + std::to_string(i), simt_inputs[i].grad(),
                 cpu_inputs[i].grad(), atol, rtol);
}

// The model steps alternate CPU kernels (OpenMP: conv, GEMM) with emulator launches. On this
// 2-core machine the OpenMP workers spin after each parallel region and starve the emulator's
// threads (a step is ~15x slower; OMP_WAIT_POLICY=passive fixes it too), so those tests run the
// CPU kernels single-threaded. Results do not depend on it beyond rounding.
class SerialOpenMP {
 public:
  SerialOpenMP() : previous_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SerialOpenMP() { omp_set_num_threads(previous_); }
  SerialOpenMP(const SerialOpenMP&) = delete;
  SerialOpenMP& operator=(const SerialOpenMP&) = delete;

 private:
  int previous_;
};

Tensor input(const Shape& shape, uint64_t seed, bool grad = true) {
  Rng rng(seed);
  Tensor t = randn(shape, rng);
  if (grad) t.requires_grad_();
  return t;
}

}  // namespace

TEST_CASE("simt device: elementwise ops with broadcasting, forward and backward", "[simt]") {
  const Tensor a = input({3, 5}, 1), b = input({3, 5}, 2), row = input({5}, 3),
               col = input({3, 1}, 4), c3 = input({2, 1, 4}, 5), c2 = input({3, 1}, 6);
  using V = std::vector<Tensor>;
  check_op("add", [](const V& x) { return add(x[0], x[1]); }, {a, b});
  check_op("add (N, C) + (C)", [](const V& x) { return add(x[0], x[1]); }, {a, row});
  check_op("add (C) + (N, C)", [](const V& x) { return x[0] + x[1]; }, {row, a});
  check_op("sub (3, 1) - (3, 5)", [](const V& x) { return sub(x[0], x[1]); }, {col, a});
  check_op("sub (2, 1, 4) - (3, 1)", [](const V& x) { return sub(x[0], x[1]); }, {c3, c2});
  check_op("mul", [](const V& x) { return mul(x[0], x[1]); }, {a, b});
  check_op("mul (2, 1, 4) * (3, 1)", [](const V& x) { return x[0] * x[1]; }, {c3, c2});
  check_op("add scalar", [](const V& x) { return add(x[0], 0.75); }, {a});
  check_op("mul scalar", [](const V& x) { return mul(x[0], -1.5); }, {a});
  check_op("neg", [](const V& x) { return neg(x[0]); }, {a});
  check_op("relu", [](const V& x) { return relu(x[0]); }, {a});
  check_op("mul of a transposed view", [](const V& x) { return mul(x[0].t(), x[1]); },
           {a, input({5, 3}, 7)});
  check_op("x*x - 1 (MSE pieces)", [](const V& x) { return mul(x[0], x[0]) - 1.0; }, {a});
}

TEST_CASE("simt device: sums and means over dimensions", "[simt]") {
  const Tensor x = input({3, 4, 5}, 11);
  using V = std::vector<Tensor>;
  check_op("sum all", [](const V& v) { return sum(v[0]); }, {x});
  check_op("mean all", [](const V& v) { return mean(v[0]); }, {x});
  check_op("sum dim 0 (leading)", [](const V& v) { return sum(v[0], {0}); }, {x});
  check_op("sum dims 1, 2 (trailing)", [](const V& v) { return sum(v[0], {1, 2}); }, {x});
  check_op("sum dim 1 (middle), keepdim", [](const V& v) { return sum(v[0], {1}, true); }, {x});
  check_op("sum dims 0, 2", [](const V& v) { return sum(v[0], {0, 2}); }, {x});
  check_op("mean dim -1", [](const V& v) { return mean(v[0], {-1}); }, {x});
  check_op("sum of a transposed view", [](const V& v) { return sum(v[0].transpose(0, 2), {0}); },
           {x});
}

TEST_CASE("simt device: matmul, linear, conv2d (gemm.cu and conv2d.cu)", "[simt]") {
  using V = std::vector<Tensor>;
  check_op("matmul", [](const V& x) { return matmul(x[0], x[1]); }, {input({4, 6}, 21), input({6, 3}, 22)});
  check_op("matmul of transposes", [](const V& x) { return matmul(x[0].t(), x[1].t()); },
           {input({6, 4}, 23), input({3, 6}, 24)});
  check_op("linear", [](const V& x) { return linear(x[0], x[1], x[2]); },
           {input({5, 7}, 25), input({3, 7}, 26), input({3}, 27)});
  check_op("conv2d stride 1 pad 1", [](const V& x) { return conv2d(x[0], x[1], 1, 1); },
           {input({2, 3, 6, 5}, 28), input({4, 3, 3, 3}, 29)});
  check_op("conv2d stride 2", [](const V& x) { return conv2d(x[0], x[1], 2, 0); },
           {input({2, 3, 7, 7}, 30), input({2, 3, 1, 1}, 31)});
}

TEST_CASE("simt device: batch_norm and batch_norm_relu, training and eval, running stats", "[simt]") {
  for (bool relu : {false, true})
    for (const Shape& shape : {Shape{3, 5, 7, 1}, Shape{4, 3, 3, 3}, Shape{6, 5}})
      for (bool affine : {true, false})
        for (bool training : {true, false}) {
          const int64_t C = shape[1];
          std::ostringstream tag;
          tag << (relu ? "batch_norm_relu " : "batch_norm ") << shape_str(shape)
              << (affine ? " affine" : "") << (training ? " train" : " eval");
          Rng rng(41);
          const Tensor x = add(mul(randn(shape, rng), 2.0), 0.5).detach().requires_grad_();
          const Tensor gamma = affine ? rand({C}, rng, 0.5, 1.5).requires_grad_() : Tensor();
          const Tensor beta = affine ? randn({C}, rng).requires_grad_() : Tensor();
          const Tensor rm = randn({C}, rng), rv = rand({C}, rng, 0.5, 2.0);
          Tensor rm_s = rm.to(Device::simt), rv_s = rv.to(Device::simt);
          const Tensor rm_c = rm.clone(), rv_c = rv.clone();
          check_op(tag.str(),
                   [&](const std::vector<Tensor>& v) {
                     const bool on_simt = v[0].device() == Device::simt;
                     const Tensor& m = on_simt ? rm_s : rm_c;
                     const Tensor& s = on_simt ? rv_s : rv_c;
                     return relu ? batch_norm_relu(v[0], v[1], v[2], m, s, training, 0.1, 1e-5)
                                 : batch_norm(v[0], v[1], v[2], m, s, training, 0.1, 1e-5);
                   },
                   {x, gamma, beta});
          check_same(tag.str() + ": running_mean", rm_s, rm_c, 1e-6, 1e-5);
          check_same(tag.str() + ": running_var", rv_s, rv_c, 1e-6, 1e-5);
        }
}

TEST_CASE("simt device: pooling, l2_normalize and data movement", "[simt]") {
  using V = std::vector<Tensor>;
  const Tensor img = input({2, 3, 7, 6}, 51);
  check_op("max_pool2d 3/2/1", [](const V& x) { return max_pool2d(x[0], 3, 2, 1); }, {img});
  check_op("max_pool2d 2/2/0", [](const V& x) { return max_pool2d(x[0], 2, 2, 0); }, {img});
  check_op("global_avg_pool2d", [](const V& x) { return global_avg_pool2d(x[0]); }, {img});
  check_op("l2_normalize", [](const V& x) { return l2_normalize(x[0]); }, {input({5, 9}, 52)});
  check_op("cat dim 0", [](const V& x) { return cat({x[0], x[1]}, 0); },
           {input({2, 4}, 53), input({3, 4}, 54)});
  check_op("cat dim 1", [](const V& x) { return cat({x[0], x[1]}, 1); },
           {input({2, 4}, 55), input({2, 1}, 56)});
  check_op("slice, reshape, flatten, transpose, contiguous, clone",
           [](const V& x) {
             return x[0].slice(1, 1, 3).reshape({2, 2, 6, 7}).flatten(1).t().contiguous().clone();
           },
           {img.detach().reshape({2, 3, 42}).detach().requires_grad_()});
}

TEST_CASE("simt device: div, exp, log, sqrt, pow, log_softmax, cross_entropy", "[simt]") {
  using V = std::vector<Tensor>;
  const Tensor a = input({3, 5}, 61), r = input({3, 5}, 62, false);
  const Tensor positive = add(mul(r, r), 0.5).detach().requires_grad_();  // >= 0.5
  check_op("div", [](const V& x) { return div(x[0], x[1]); }, {a, positive});
  check_op("div (3, 5) / (5)", [](const V& x) { return div(x[0], x[1]); }, {a, input({5}, 63).detach()});
  check_op("exp", [](const V& x) { return exp(x[0]); }, {a});
  check_op("log", [](const V& x) { return log(x[0]); }, {positive});
  check_op("sqrt", [](const V& x) { return sqrt(x[0]); }, {positive});
  check_op("pow 3", [](const V& x) { return pow(x[0], 3.0); }, {a});
  check_op("pow -0.5", [](const V& x) { return pow(x[0], -0.5); }, {positive});
  const Tensor logits = mul(input({6, 37}, 64, false), 3.0).detach().requires_grad_();  // > 32 columns
  check_op("log_softmax", [](const V& x) { return log_softmax(x[0]); }, {logits});
  check_op("cross_entropy", [](const V& x) { return cross_entropy(x[0], {0, 36, 5, 5, 17, 31}); }, {logits});
}

TEST_CASE("simt device: float64 and mixed devices fail with clear errors; the float64 counter adds", "[simt]") {
  const Tensor a = input({3, 4}, 61).detach().to(Device::simt);
  using Catch::Matchers::Contains;
  const Tensor d = Tensor::ones({3, 4}, DType::f64).to(Device::simt);
  CHECK_THROWS_WITH(add(d, d), Contains("add: float64 is not supported on device simt"));
  CHECK_THROWS_WITH(relu(d), Contains("relu: float64 is not supported on device simt"));
  CHECK_THROWS_WITH(add(a, Tensor::ones({3, 4})), Contains("tensors on different devices"));
  // add(Tensor, double) has a float64 kernel: BatchNorm's num_batches_tracked counts on the device.
  const Tensor counter = Tensor::full({}, 41.0, DType::f64).to(Device::simt);
  counter.copy_(add(counter, 1.0));
  CHECK(counter.device() == Device::simt);
  CHECK(counter.item() == 42.0);
}

namespace {

// Two steps of the optimizer made by make_opt on cpu and on simt copies of the same parameters
// (a matrix, a vector), with the same gradients; every parameter and state tensor must match.
using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(const Tensor&, const Tensor&)>;

void check_optimizer(const std::string& name, const MakeOptimizer& make_opt) {
  Rng rng(71);
  const Tensor w = randn({6, 5}, rng).requires_grad_(), v = randn({5}, rng).requires_grad_();
  const Tensor ws = simt_leaf(w, true), vs = simt_leaf(v, true);
  auto opt_c = make_opt(w, v), opt_s = make_opt(ws, vs);
  for (int step = 0; step < 2; ++step) {
    const Tensor gw = mul(randn({6, 5}, rng), 0.1), gv = mul(randn({5}, rng), 0.1);
    w.set_grad(gw.clone());
    v.set_grad(gv.clone());
    ws.set_grad(gw.to(Device::simt));
    vs.set_grad(gv.to(Device::simt));
    opt_c->step();
    opt_s->step();
  }
  check_same(name + ": weight", ws, w, 1e-6, 1e-5);
  check_same(name + ": bias", vs, v, 1e-6, 1e-5);
  for (const auto& [key, t] : opt_c->state()) {
    const Tensor s = opt_s->state().at(key);
    if (s.device() == Device::cpu) CHECK(s.item() == t.item());  // AdamW's step count
    else check_same(name + ": state " + key, s, t, 1e-6, 1e-5);
  }
}

}  // namespace

TEST_CASE("simt device: SGD, LARS, AdamW and the EMA update match the cpu", "[simt]") {
  using optim::ParamGroup;
  auto groups = [](const Tensor& w, const Tensor& v) { return optim::decay_groups({{"w", w}, {"v", v}}, 1e-2); };
  // set_lr: the one writer of the groups' lr.
  auto at_lr = [](std::unique_ptr<optim::Optimizer> opt, double lr) {
    opt->set_lr(lr);
    return opt;
  };
  check_optimizer("SGD", [&](const Tensor& w, const Tensor& v) {
    return at_lr(std::make_unique<optim::SGD>(groups(w, v), optim::SgdOptions{0.9, false}), 0.1);
  });
  check_optimizer("SGD nesterov", [&](const Tensor& w, const Tensor& v) {
    return at_lr(std::make_unique<optim::SGD>(groups(w, v), optim::SgdOptions{0.9, true}), 0.1);
  });
  check_optimizer("LARS", [&](const Tensor& w, const Tensor& v) {
    return at_lr(std::make_unique<optim::LARS>(groups(w, v), optim::LarsOptions{0.9, 0.001, false}), 0.3);
  });
  check_optimizer("LARS clip", [&](const Tensor& w, const Tensor& v) {
    return at_lr(std::make_unique<optim::LARS>(groups(w, v), optim::LarsOptions{0.9, 0.02, true}), 0.3);
  });
  check_optimizer("AdamW", [&](const Tensor& w, const Tensor& v) {
    return at_lr(std::make_unique<optim::AdamW>(groups(w, v), optim::AdamWOptions{}), 1e-2);
  });

  Rng rng(81);
  const Tensor target = randn({4, 3}, rng), online = randn({4, 3}, rng);
  const Tensor target_s = target.to(Device::simt), online_s = online.to(Device::simt);
  optim::ema_update_({target}, {online}, 0.99);
  optim::ema_update_({target_s}, {online_s}, 0.99);
  check_same("ema_update_", target_s, target, 1e-7, 1e-6);
}

TEST_CASE("simt device: the fused SSL losses (kernels/cuda) match the cpu losses", "[simt]") {
  using V = std::vector<Tensor>;
  const Tensor z1 = input({8, 16}, 91), z2 = input({8, 16}, 92), t = input({8, 16}, 93, false);
  check_op("barlow_twins_loss", [](const V& x) { return methods::barlow_twins_loss(x[0], x[1], 0.0051); },
           {z1, z2});
  check_op("nt_xent_loss", [](const V& x) { return methods::nt_xent_loss(x[0], x[1], 0.5); }, {z1, z2});
  check_op("byol_loss", [](const V& x) { return methods::byol_loss(x[0], x[1]); }, {z1, t});
  check_op("barlow_twins_cross_correlation",
           [](const V& x) { return methods::barlow_twins_cross_correlation(x[0], x[1]); },
           {z1.detach(), z2.detach()});
}

namespace {

// ResNet-18 backbone + Linear head, regression onto fixed targets: loss = mean((head − t)²).
struct Net {
  std::shared_ptr<models::ResNet> backbone;
  std::shared_ptr<nn::Linear> head;
  nn::NamedTensors parameters() const {
    nn::NamedTensors all = backbone->named_parameters();
    for (auto& [name, t] : head->named_parameters()) all.emplace_back("head." + name, t);
    return all;
  }
};

Net make_net() {
  Rng rng(2024);
  auto backbone = std::make_shared<models::ResNet>(
      models::ResNetConfig{.arch = "resnet18", .stem = models::Stem::cifar, .width = 4}, rng);
  auto head = std::make_shared<nn::Linear>(backbone->feature_dim(), 10, rng);
  return {backbone, head};
}

double train_step(Net& net, optim::Optimizer& opt, const Tensor& x, const Tensor& target) {
  opt.zero_grad();
  const Tensor d = sub(net.head->forward(net.backbone->forward(x)), target);
  const Tensor loss = mean(mul(d, d));
  loss.backward();
  opt.step();
  return loss.item();
}

}  // namespace

TEST_CASE("simt device: a ResNet-18 training step (LARS, MSE) matches the cpu step", "[simt]") {
  // Width 4, batch 6, 16x16 images; two steps so LARS's momentum carries over.
  SerialOpenMP serial;
  Net cpu_net = make_net(), simt_net = make_net();
  simt_net.backbone->to(Device::simt);
  simt_net.head->to(Device::simt);
  auto make_opt = [](const Net& net) {
    return optim::LARS(optim::decay_groups(net.parameters(), 1e-4), optim::LarsOptions{0.9, 0.02, true});
  };
  optim::LARS opt_c = make_opt(cpu_net), opt_s = make_opt(simt_net);
  opt_c.set_lr(0.2);
  opt_s.set_lr(0.2);
  Rng rng(5);
  for (int step = 0; step < 2; ++step) {
    const Tensor x = randn({6, 3, 16, 16}, rng), target = randn({6, 10}, rng);
    const double loss_c = train_step(cpu_net, opt_c, x, target);
    const double loss_s = train_step(simt_net, opt_s, x.to(Device::simt), target.to(Device::simt));
    INFO("step " << step << ": loss cpu " << loss_c << ", simt " << loss_s);
    CHECK(std::abs(loss_s - loss_c) <= 1e-4 * std::abs(loss_c));
  }
  // Every parameter and buffer (BN running statistics, batch counts) after the updates.
  const nn::StateDict sc = cpu_net.backbone->state_dict(), ss = simt_net.backbone->state_dict();
  REQUIRE(sc.size() == ss.size());
  for (const auto& [name, t] : sc) {
    if (t.dtype() == DType::f64) CHECK(ss.at(name).item() == t.item());  // num_batches_tracked
    else check_same(name, ss.at(name), t, 1e-5, 1e-4);
  }
  check_same("head.weight", simt_net.head->weight, cpu_net.head->weight, 1e-5, 1e-4);
  check_same("head.bias", simt_net.head->bias, cpu_net.head->bias, 1e-5, 1e-4);
}

TEST_CASE("simt device: one LARS step of each SSL method matches the cpu step", "[simt]") {
  // Batch 8: with 4 samples the projector's BatchNorm1d and Barlow Twins' batch normalisation
  // are ill-conditioned enough that float32 rounding alone moves the BT update by ~3e-4.
  SerialOpenMP serial;
  for (const char* name : {"barlow", "byol", "simsiam", "simclr"}) {
    methods::MethodConfig config;
    config.method = name;
    config.backbone = {.arch = "resnet18", .stem = models::Stem::cifar, .width = 4};
    config.proj_hidden = 16;
    config.proj_out = 8;
    config.pred_hidden = 8;
    Rng rng_c(3), rng_s(3), data(4);
    auto cpu_method = methods::make_method(config, rng_c), simt_method = methods::make_method(config, rng_s);
    simt_method->to(Device::simt);
    auto make_opt = [](const methods::Method& m) {
      return optim::LARS(optim::decay_groups(m.trainable_parameters(), 1e-4), optim::LarsOptions{0.9, 0.02, true});
    };
    optim::LARS opt_c = make_opt(*cpu_method), opt_s = make_opt(*simt_method);
    opt_c.set_lr(0.3);
    opt_s.set_lr(0.3);
    const Tensor v1 = randn({8, 3, 16, 16}, data), v2 = randn({8, 3, 16, 16}, data);
    const Tensor loss_c = cpu_method->loss(v1, v2);
    const Tensor loss_s = simt_method->loss(v1.to(Device::simt), v2.to(Device::simt));
    INFO(name << ": loss cpu " << loss_c.item() << ", simt " << loss_s.item());
    CHECK(std::abs(loss_s.item() - loss_c.item()) <= 1e-4 * std::abs(loss_c.item()) + 1e-5);
    loss_c.backward();
    loss_s.backward();
    opt_c.step();
    opt_s.step();
    cpu_method->after_step(1, 10);  // BYOL: the EMA target update
    simt_method->after_step(1, 10);
    const nn::StateDict sc = cpu_method->state_dict(), ss = simt_method->state_dict();
    REQUIRE(sc.size() == ss.size());
    for (const auto& [key, tensor] : sc) {
      if (tensor.dtype() == DType::f64) CHECK(ss.at(key).item() == tensor.item());
      else check_same(std::string(name) + " " + key, ss.at(key), tensor, cancellation_atol(tensor), 1e-4);
    }
  }
}
