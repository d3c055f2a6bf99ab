// Optimizers against hand-computed updates, the parameter-group split, set_lr, optimizer
// state round trips and errors, schedules, the EMA update, and the parallel kernel path.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>

#include "engine/nn/batch_norm.h"
#include "engine/nn/linear.h"
#include "engine/nn/sequential.h"
#include "engine/ops.h"
#include "engine/optim/adamw.h"
#include "engine/optim/ema.h"
#include "engine/optim/lars.h"
#include "engine/optim/param_groups.h"
#include "engine/optim/schedule.h"
#include "engine/optim/sgd.h"
#include "kernels/cpu/optim_kernels.h"

using namespace bt;
using namespace bt::optim;

namespace {

Tensor param(std::vector<double> v, DType dtype = DType::f64) {
  Tensor t = Tensor::from_vector(v, {int64_t(v.size())}, dtype);
  t.requires_grad_();
  return t;
}

void set_grad(const Tensor& p, std::vector<double> g) {
  p.set_grad(Tensor::from_vector(g, p.shape(), p.dtype()));
}

void require_close(const Tensor& t, const std::vector<double>& want, double tol = 1e-12) {
  const std::vector<double> got = t.to_vector();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
    CHECK(std::abs(got[i] - want[i]) <= tol * (1 + std::abs(want[i])));
  }
}

ParamGroup group(nn::NamedTensors params, double lr, double wd, bool exclude = false) {
  return ParamGroup{std::move(params), lr, 1.0, wd, exclude};
}

}  // namespace

TEST_CASE("SGD with momentum, nesterov and weight decay matches hand-computed steps") {
  // p = (1, −2), g = (0.5, 1) every step, lr 0.1, μ 0.9, wd 0.1.
  Tensor p = param({1, -2}), frozen = param({7, 7});
  SGD sgd({group({{"p", p}, {"frozen", frozen}}, 0.1, 0.1)}, {0.9, /*nesterov=*/true});
  set_grad(p, {0.5, 1});
  // step 1: d = g + 0.1p = (0.6, 0.8); buf = d = (0.6, 0.8);
  //         d = d + 0.9 buf = (1.14, 1.52); p = p − 0.1 d = (0.886, −2.152)
  sgd.step();
  require_close(p, {0.886, -2.152});
  // step 2: d = (0.5 + 0.0886, 1 − 0.2152) = (0.5886, 0.7848)
  //         buf = 0.9 (0.6, 0.8) + d = (1.1286, 1.5048)
  //         d = d + 0.9 buf = (1.60434, 2.13912); p = (0.886 − 0.160434, −2.152 − 0.213912)
  sgd.step();
  require_close(p, {0.725566, -2.365912});
  require_close(sgd.state().at("p.momentum_buffer"), {1.1286, 1.5048});
  // A parameter without a gradient is skipped and gets no state.
  require_close(frozen, {7, 7});
  REQUIRE(sgd.state().count("frozen.momentum_buffer") == 0);
}

TEST_CASE("SGD with plain momentum, and without momentum") {
  Tensor p = param({1, -2});
  SGD sgd({group({{"p", p}}, 0.1, 0.1)}, {0.9, false});
  set_grad(p, {0.5, 1});
  // step 1: d = (0.6, 0.8) = buf; p = (1 − 0.06, −2 − 0.08) = (0.94, −2.08)
  sgd.step();
  require_close(p, {0.94, -2.08});
  // step 2: d = (0.5 + 0.094, 1 − 0.208) = (0.594, 0.792); buf = (0.54 + 0.594, 0.72 + 0.792)
  //         = (1.134, 1.512); p = (0.94 − 0.1134, −2.08 − 0.1512)
  sgd.step();
  require_close(p, {0.8266, -2.2312});

  Tensor q = param({1, -2}, DType::f32);
  SGD plain({group({{"q", q}}, 0.1, 0.1)}, {0.0, false});
  set_grad(q, {0.5, 1});
  plain.step();  // p − 0.1 (g + 0.1 p) = (1 − 0.06, −2 − 0.08), in float32
  require_close(q, {0.94, -2.08}, 1e-6);
  REQUIRE(plain.state().empty());
}

TEST_CASE("LARS: trust ratio, momentum, excluded parameters, zero norms") {
  // w = (3, 4): ‖w‖ = 5; g = (0.3, 0.4); lr 0.5, wd 0.1, η 0.02, μ 0.9.
  // b (excluded, its group's wd 0.1 is ignored) = (1, −1), g_b = (0.2, 0.4).
  Tensor w = param({3, 4}), b = param({1, -1});
  LARS lars({group({{"w", w}}, 0.5, 0.1), group({{"b", b}}, 0.5, 0.1, /*exclude=*/true)},
            {0.9, 0.02, /*clip_lr=*/false});
  set_grad(w, {0.3, 0.4});
  set_grad(b, {0.2, 0.4});
  // step 1, w: d = g + 0.1 w = (0.6, 0.8), ‖d‖ = 1; q = 0.02·5/1 = 0.1; d = (0.06, 0.08)
  //            buf = d; w = w − 0.5 buf = (2.97, 3.96)
  //         b: d = g = (0.2, 0.4) = buf; b = (1 − 0.1, −1 − 0.2) = (0.9, −1.2)
  lars.step();
  require_close(w, {2.97, 3.96});
  require_close(b, {0.9, -1.2});
  // step 2, w = 0.99 (3, 4): ‖w‖ = 4.95; d = (0.3 + 0.297, 0.4 + 0.396) = 0.199 (3, 4),
  //            ‖d‖ = 0.995; q = 0.02·4.95/0.995; q d = 0.02·4.95·0.2 (3, 4) = (0.0594, 0.0792)
  //            buf = 0.9 (0.06, 0.08) + (0.0594, 0.0792) = (0.1134, 0.1512)
  //            w = (2.97 − 0.0567, 3.96 − 0.0756) = (2.9133, 3.8844)
  //         b: buf = 0.9 (0.2, 0.4) + (0.2, 0.4) = (0.38, 0.76); b = (0.9 − 0.19, −1.2 − 0.38)
  lars.step();
  require_close(w, {2.9133, 3.8844});
  require_close(b, {0.71, -1.58});
  require_close(lars.state().at("w.momentum_buffer"), {0.1134, 0.1512});

  // g ⊥ w, so ‖g + wd·w‖ differs from solo-learn's ‖g‖ + wd‖w‖ (= 1): w = (3, 4),
  // g = (0.4, −0.3): d = (0.7, 0.1), ‖d‖ = √0.5; q = 0.02·5/√0.5 = 0.1√2;
  // w = w − 0.5·0.1√2 (0.7, 0.1) = (3 − 0.0494975, 4 − 0.0070711)
  Tensor w2 = param({3, 4});
  LARS ortho({group({{"w2", w2}}, 0.5, 0.1)}, {0.9, 0.02, false});
  set_grad(w2, {0.4, -0.3});
  ortho.step();
  require_close(w2, {2.9505025253169417, 3.9929289321881345});

  // ‖p‖ = 0: q = 1, so d = g + wd·0 = g = (1, 2); p = −0.5 (1, 2).
  Tensor z = param({0, 0});
  LARS zero({group({{"z", z}}, 0.5, 0.1)}, {0.9, 0.02, false});
  set_grad(z, {1, 2});
  zero.step();
  require_close(z, {-0.5, -1});
}

TEST_CASE("LARS lr clipping (solo-learn): q = min(q / lr, 1)") {
  // As above, w = (3, 4), g = (0.3, 0.4), wd 0.1, η 0.02 → unclipped q = 0.1, d = (0.6, 0.8).
  {
    // lr 0.5: q = min(0.1/0.5, 1) = 0.2; w = w − 0.5·0.2 (0.6, 0.8) = (2.94, 3.92)
    Tensor w = param({3, 4});
    LARS lars({group({{"w", w}}, 0.5, 0.1)}, {0.9, 0.02, /*clip_lr=*/true});
    set_grad(w, {0.3, 0.4});
    lars.step();
    require_close(w, {2.94, 3.92});
  }
  {
    // lr 0.05: q = min(0.1/0.05, 1) = 1; w = w − 0.05 (0.6, 0.8) = (2.97, 3.96)
    Tensor w = param({3, 4});
    LARS lars({group({{"w", w}}, 0.05, 0.1)}, {0.9, 0.02, /*clip_lr=*/true});
    set_grad(w, {0.3, 0.4});
    lars.step();
    require_close(w, {2.97, 3.96});
  }
}

TEST_CASE("AdamW matches two hand-computed steps (decoupled decay, bias correction)") {
  // p = (1, −1); lr 0.1, wd 0.01, β (0.9, 0.999), eps 1e-8.
  Tensor p = param({1, -1});
  AdamW adam({group({{"p", p}}, 0.1, 0.01)}, {0.9, 0.999, 1e-8});
  // step 1, g = (0.5, −2): p = 0.999 p; m = 0.1 g = (0.05, −0.2); v = 0.001 g² = (2.5e-4, 4e-3)
  //   m̂ = m / 0.1 = g; √v̂ = √(v / 0.001) = |g|; p −= 0.1 g / (|g| + 1e-8)
  //   p = (0.999 − 0.1·0.5/(0.5 + 1e-8), −0.999 + 0.1·2/(2 + 1e-8))
  set_grad(p, {0.5, -2});
  adam.step();
  require_close(p, {0.899000002, -0.8990000005});
  // step 2, g = (−0.5, 1): p = 0.999 p = (0.898101002, −0.8981010005)
  //   m = 0.9 (0.05, −0.2) + 0.1 g = (−0.005, −0.08)
  //   v = 0.999 (2.5e-4, 4e-3) + 0.001 g² = (4.9975e-4, 4.996e-3)
  //   bias corrections 1 − 0.9² = 0.19, 1 − 0.999² = 0.001999
  //   p₀ −= 0.1 (−0.005/0.19) / (√(4.9975e-4/0.001999) + 1e-8) = 0.1 (−0.0263158)/0.5
  //   p₁ −= 0.1 (−0.08/0.19) / (√(4.996e-3/0.001999) + 1e-8) = 0.1 (−0.4210526)/1.5809015
  set_grad(p, {-0.5, 1});
  adam.step();
  require_close(p, {0.9033641597874735, -0.8714672967019315}, 1e-10);
  require_close(adam.state().at("p.exp_avg"), {-0.005, -0.08});
  require_close(adam.state().at("p.exp_avg_sq"), {4.9975e-4, 4.996e-3});
  REQUIRE(adam.state().at("p.step").item() == 2);
}

TEST_CASE("decay_groups: 1-D parameters get no decay, no adaptation, their own lr") {
  Rng rng(1);
  nn::Sequential net;
  net.push_back(std::make_shared<nn::Linear>(4, 8, rng, /*bias=*/false));
  net.push_back(std::make_shared<nn::BatchNorm1d>(8));
  net.push_back(std::make_shared<nn::Linear>(8, 2, rng));
  // BT ImageNet: lr 0.2 for weights, 0.0048 for biases → bias multiplier 0.024.
  std::vector<ParamGroup> groups = decay_groups(net.named_parameters(), 1.5e-6, 0.024);
  REQUIRE(groups.size() == 2);
  std::vector<std::string> weights, biases;
  for (auto& e : groups[0].params) weights.push_back(e.first);
  for (auto& e : groups[1].params) biases.push_back(e.first);
  REQUIRE(weights == std::vector<std::string>{"0.weight", "2.weight"});
  REQUIRE(biases == std::vector<std::string>{"1.weight", "1.bias", "2.bias"});
  CHECK(groups[0].weight_decay == 1.5e-6);
  CHECK_FALSE(groups[0].exclude_from_adaptation);
  CHECK(groups[1].weight_decay == 0);
  CHECK(groups[1].exclude_from_adaptation);
  CHECK(groups[0].lr == 0);  // until the optimizer's set_lr, the one writer of lr
  CHECK(groups[1].lr == 0);

  LARS lars(std::move(groups));
  lars.set_lr(0.2);
  CHECK(lars.param_groups()[0].lr == Approx(0.2));
  CHECK(lars.param_groups()[1].lr == Approx(0.0048));
  lars.set_lr(0.1);  // each group keeps its multiplier
  CHECK(lars.param_groups()[0].lr == Approx(0.1));
  CHECK(lars.param_groups()[1].lr == Approx(0.0024));

  sum(net.forward(Tensor::ones({3, 4}))).backward();
  lars.zero_grad();
  for (const Tensor& p : net.parameters()) REQUIRE_FALSE(p.grad().defined());
}

TEST_CASE("optimizer state round trip resumes identically; load_state errors name the key") {
  Tensor a = param({1, -2}), b = param({1, -2});
  SGD first({group({{"w", a}}, 0.1, 0.1)}, {0.9, true});
  SGD resumed({group({{"w", b}}, 0.1, 0.1)}, {0.9, true});
  set_grad(a, {0.5, 1});
  set_grad(b, {0.5, 1});
  first.step();
  b.detach().copy_(a);
  nn::StateDict saved;
  for (const auto& [key, t] : first.state()) saved.emplace(key, t.clone());
  resumed.load_state(saved);
  first.step();
  resumed.step();
  REQUIRE(a.to_vector() == b.to_vector());

  REQUIRE_THROWS_WITH(resumed.load_state({{"nope.momentum_buffer", Tensor::zeros({2})}}),
                      Catch::Contains("'nope.momentum_buffer'") &&
                          Catch::Contains("names no parameter"));
  REQUIRE_THROWS_WITH(resumed.load_state({{"w.exp_avg", Tensor::zeros({2})}}),
                      Catch::Contains("unknown slot 'exp_avg'"));
  REQUIRE_THROWS_WITH(resumed.load_state({{"w.momentum_buffer", Tensor::zeros({3})}}),
                      Catch::Contains("'w.momentum_buffer'") && Catch::Contains("(3,)") &&
                          Catch::Contains("(2,)"));

  // AdamW keeps its per-parameter step count through a round trip.
  Tensor c = param({1, -1}), d = param({1, -1});
  AdamW adam_a({group({{"c", c}}, 0.1, 0.01)}), adam_b({group({{"c", d}}, 0.1, 0.01)});
  set_grad(c, {0.5, -2});
  set_grad(d, {0.5, -2});
  adam_a.step();
  d.detach().copy_(c);
  nn::StateDict adam_saved;
  for (const auto& [key, t] : adam_a.state()) adam_saved.emplace(key, t.clone());
  adam_b.load_state(adam_saved);
  adam_a.step();
  adam_b.step();
  REQUIRE(c.to_vector() == d.to_vector());
  REQUIRE(adam_b.state().at("c.step").item() == 2);
}

TEST_CASE("optimizer construction errors") {
  Tensor p = param({1});
  REQUIRE_THROWS_WITH(SGD({group({{"p", p}}, 0.1, 0), group({{"p", p}}, 0.1, 0)}),
                      Catch::Contains("'p' appears twice"));
  REQUIRE_THROWS_WITH(SGD({group({{"p", p}}, 0.1, 0)}, {0.0, true}),
                      Catch::Contains("nesterov needs momentum"));
}

TEST_CASE("warmup + cosine schedule values") {
  // W = 10, T = 110, base 1.0, final 0.001.
  const WarmupCosine lr{10, 110, 1.0, 0.001};
  CHECK(lr(0) == 0.0);                      // warmup starts at 0
  CHECK(lr(5) == Approx(0.5));              // 1.0·5/10
  CHECK(lr(10) == Approx(1.0));             // end of warmup: c = 1
  CHECK(lr(60) == Approx(0.5005));          // halfway: c = ½ → 0.001 + 0.999·½
  CHECK(lr(109) == Approx(0.0012464730973170658));  // 0.001 + 0.999·½(1 + cos(0.99π))
  CHECK(lr(110) == Approx(0.001));          // final
  CHECK(lr(500) == Approx(0.001));
  const WarmupCosine no_warmup{0, 100, 0.4, 0.0};
  CHECK(no_warmup(0) == Approx(0.4));
  CHECK(no_warmup(50) == Approx(0.2));
  REQUIRE_THROWS_WITH((WarmupCosine{10, 10, 1.0, 0.0}(0)), Catch::Contains("warmup_steps"));
}

TEST_CASE("BYOL tau schedule endpoints and midpoint") {
  const ByolTau tau{0.99, 100};
  CHECK(tau(0) == Approx(0.99));   // 1 − 0.01·(1 + 1)/2
  CHECK(tau(50) == Approx(0.995)); // 1 − 0.01·(0 + 1)/2
  CHECK(tau(100) == Approx(1.0));  // 1 − 0.01·(−1 + 1)/2
  CHECK(tau(150) == Approx(1.0));
}

TEST_CASE("EMA update: target = tau·target + (1 − tau)·online") {
  Tensor target = Tensor::from_vector(std::vector<double>{1, 2}, {2});
  Tensor online = Tensor::from_vector(std::vector<double>{3, 6}, {2});
  ema_update_({target}, {online}, 0.9);  // (0.9 + 0.3, 1.8 + 0.6)
  require_close(target, {1.2, 2.4}, 1e-6);
  REQUIRE_THROWS_WITH(ema_update_({target}, {Tensor::zeros({3})}, 0.9),
                      Catch::Contains("(2,)") && Catch::Contains("(3,)"));
}

TEST_CASE("kernels: the parallel path equals the per-element formulas") {
  // n above the OpenMP threshold; compare every element with the scalar formula.
  const int64_t n = 100003;
  std::vector<float> p(n), g(n), buf(n), m(n, 0.f), v(n, 0.f);
  for (int64_t i = 0; i < n; ++i) {
    p[i] = float(std::sin(0.001 * double(i)));
    g[i] = float(std::cos(0.003 * double(i)));
    buf[i] = 0.25f;
  }
  std::vector<float> p_sgd = p, buf_sgd = buf;
  cpu::sgd_step<float>(n, p_sgd.data(), g.data(), buf_sgd.data(), 0.1f, 0.9f, 0.01f, true, false);
  std::vector<float> p_adam = p;
  cpu::adamw_step<float>(n, p_adam.data(), g.data(), m.data(), v.data(), 0.1f, 0.9f, 0.999f,
                         1e-8f, 0.01f, 1);
  std::vector<float> p_ema = p;
  cpu::ema_update<float>(n, p_ema.data(), g.data(), 0.99f);
  double p2 = 0, d2 = 0;
  cpu::lars_norms<float>(n, p.data(), g.data(), 0.01f, &p2, &d2);
  double p2_ref = 0, d2_ref = 0;
  double err_buf = 0, err_sgd = 0, err_adam = 0, err_ema = 0;  // max abs errors
  for (int64_t i = 0; i < n; ++i) {
    const double d = double(g[i]) + 0.01 * p[i];
    const double b = 0.9 * buf[i] + d;
    err_buf = std::max(err_buf, std::abs(buf_sgd[i] - b));
    err_sgd = std::max(err_sgd, std::abs(p_sgd[i] - (p[i] - 0.1 * (d + 0.9 * b))));
    // step 1: m̂ = g, √v̂ = |g|: p(1 − lr·wd) − lr·g/(|g| + eps)
    const double adam = double(p[i]) * (1 - 0.001) - 0.1 * g[i] / (std::abs(g[i]) + 1e-8);
    err_adam = std::max(err_adam, std::abs(p_adam[i] - adam));
    err_ema = std::max(err_ema, std::abs(p_ema[i] - (0.99 * p[i] + 0.01 * g[i])));
    p2_ref += double(p[i]) * p[i];
    d2_ref += d * d;
  }
  CHECK(err_buf < 1e-6);
  CHECK(err_sgd < 1e-6);
  CHECK(err_adam < 1e-5);  // float32 rounding of the moments
  CHECK(err_ema < 1e-6);
  CHECK(p2 == Approx(p2_ref).epsilon(1e-12));
  CHECK(d2 == Approx(d2_ref).epsilon(1e-6));  // d rounded to float in the kernel
}
