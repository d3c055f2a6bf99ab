// The four SSL methods end to end on a tiny ResNet: training lowers the loss, BYOL's target
// is the EMA of the online network, and no gradient reaches a target branch.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/optim/param_groups.h"
#include "engine/optim/schedule.h"
#include "engine/optim/sgd.h"
#include "methods/byol/byol.h"
#include "methods/common/regression_loss.h"
#include "methods/method.h"
#include "methods/simsiam/simsiam.h"

using namespace bt;
using namespace bt::methods;

namespace {

MethodConfig tiny(const std::string& method) {
  MethodConfig c;
  c.method = method;
  c.backbone = {.arch = "resnet18", .stem = models::Stem::cifar, .width = 8};
  c.proj_hidden = 64;
  c.proj_out = 32;
  c.pred_hidden = 16;
  c.bt_lambda_auto = true;  // 1/(D − 1)
  return c;
}

// A fixed batch and two fixed "views" of it (independent noise).
struct Views {
  Tensor v1, v2;
};
Views fixed_views(Rng& rng, int64_t n = 16) {
  Tensor x = randn({n, 3, 12, 12}, rng);
  return {add(x, mul(randn(x.shape(), rng), 0.1)), add(x, mul(randn(x.shape(), rng), 0.1))};
}

}  // namespace

TEST_CASE("30 optimizer steps on one fixed batch lower each method's loss markedly") {
  for (const char* name : {"barlow", "byol", "simsiam", "simclr"}) {
    SECTION(name) {
      Rng rng(42);
      auto method = make_method(tiny(name), rng);
      const Views views = fixed_views(rng);
      optim::SGD opt(optim::decay_groups(method->trainable_parameters(), 1e-5));
      opt.set_lr(0.05);
      double first = 0, last = 0;
      for (int step = 1; step <= 30; ++step) {
        opt.zero_grad();
        Tensor loss = method->loss(views.v1, views.v2);
        if (step == 1) first = loss.item();
        last = loss.item();
        loss.backward();
        opt.step();
        method->after_step(step, 30);
      }
      INFO(name << ": loss " << first << " -> " << last);
      // Each loss has a known floor: BT 0, BYOL 0 (per term), SimSiam −1, NT-Xent > 0.
      // "Markedly": at least 30 % of the way from the start to the floor.
      const double floor = std::string(name) == "simsiam" ? -1.0 : 0.0;
      REQUIRE(last - floor < 0.7 * (first - floor));
    }
  }
}

TEST_CASE("each method's gradient predicts the change of its loss along it (finite difference)") {
  // f(s) = loss(θ + s·g) with g = ∇loss(θ) over the trainable parameters: f'(0) = ‖g‖². The
  // central difference (f(ε) − f(−ε)) / 2ε must match it; a missing or wrong gradient term
  // anywhere in backbone, heads or loss shows as a mismatch. ε moves the loss by ~1e-3 of its
  // value: large against float32 rounding, small against the curvature. SimSiam's gradient
  // stops at its targets (z.detach(), which share θ), so its f keeps the targets of θ fixed
  // (with them moving, the slope is ~7 % off: the stop-gradient is what the check sees).
  for (const char* name : {"barlow", "byol", "simsiam", "simclr", "vicreg"}) {
    SECTION(name) {
      Rng rng(7);
      auto method = make_method(tiny(name), rng);
      const Views views = fixed_views(rng);
      const Tensor loss = method->loss(views.v1, views.v2);
      loss.backward();
      std::vector<Tensor> params;
      std::vector<std::vector<double>> theta, grad;
      double g2 = 0;
      for (auto& [n, p] : method->trainable_parameters()) {
        if (!p.grad().defined()) continue;
        params.push_back(p);
        theta.push_back(p.to_vector());
        grad.push_back(p.grad().to_vector());
        for (double g : grad.back()) g2 += g * g;
      }
      REQUIRE(g2 > 0);
      const bool simsiam = std::string(name) == "simsiam";
      Tensor t1, t2;  // SimSiam's targets at θ
      if (simsiam) {
        NoGradGuard no_grad;
        auto& simsiam_method = dynamic_cast<SimSiam&>(*method);
        t1 = simsiam_method.projector().forward(method->backbone().forward(views.v1));
        t2 = simsiam_method.projector().forward(method->backbone().forward(views.v2));
      }
      const auto loss_at_theta_targets = [&] {
        auto& simsiam_method = dynamic_cast<SimSiam&>(*method);
        nn::Sequential* predictor = &simsiam_method.predictor();
        Tensor z1 = simsiam_method.projector().forward(method->backbone().forward(views.v1));
        Tensor z2 = simsiam_method.projector().forward(method->backbone().forward(views.v2));
        return add(mul(add(byol_loss(predictor->forward(z1), t2), byol_loss(predictor->forward(z2), t1)), 0.25), -1.0);
      };
      const auto f = [&](double s) {
        NoGradGuard no_grad;
        for (size_t i = 0; i < params.size(); ++i) {
          std::vector<double> moved(theta[i]);
          for (size_t j = 0; j < moved.size(); ++j) moved[j] += s * grad[i][j];
          params[i].copy_(Tensor::from_vector(moved, params[i].shape()));
        }
        return (simsiam ? loss_at_theta_targets() : method->loss(views.v1, views.v2)).item();
      };
      const double eps = 1e-3 * std::max(1.0, std::abs(loss.item())) / g2;
      const double slope = (f(eps) - f(-eps)) / (2 * eps);
      INFO(name << ": finite-difference slope " << slope << ", ||g||^2 " << g2);
      CHECK(slope == Approx(g2).epsilon(0.01));
    }
  }
}

TEST_CASE("BYOL: the target is the EMA of the online network, with BN stats copied") {
  Rng rng(5);
  auto method = make_method(tiny("byol"), rng);
  auto& byol = dynamic_cast<Byol&>(*method);
  const Views views = fixed_views(rng, 8);
  // At construction the target equals the online network.
  auto online = byol.backbone().parameters(), target = byol.target_backbone()->parameters();
  REQUIRE(online.size() == target.size());
  for (size_t i = 0; i < online.size(); ++i) REQUIRE(online[i].to_vector() == target[i].to_vector());

  optim::SGD opt(optim::decay_groups(method->trainable_parameters(), 0.0));
  opt.set_lr(0.1);
  std::vector<std::vector<double>> target_before;
  for (auto& t : target) target_before.push_back(t.to_vector());
  Tensor loss = method->loss(views.v1, views.v2);
  loss.backward();
  for (auto& t : target) REQUIRE_FALSE(t.grad().defined());  // no gradient into the target
  opt.step();
  method->after_step(3, 10);
  const double tau = optim::ByolTau{0.99, 10}(3);
  REQUIRE(byol.last_tau() == Approx(tau));
  for (size_t i = 0; i < online.size(); ++i) {
    const auto o = online[i].to_vector(), t = target[i].to_vector();
    for (size_t j = 0; j < o.size(); ++j)
      REQUIRE(t[j] == Approx(tau * target_before[i][j] + (1 - tau) * o[j]).margin(1e-6));
  }
  auto ob = byol.backbone().buffers(), tb = byol.target_backbone()->buffers();
  for (size_t i = 0; i < ob.size(); ++i) REQUIRE(ob[i].to_vector() == tb[i].to_vector());
  // Only the online network and predictor are trained.
  for (auto& [n, p] : method->trainable_parameters()) REQUIRE(n.rfind("target_", 0) != 0);
}

TEST_CASE("SimSiam: the gradient equals the one with targets computed under no-grad") {
  Rng rng(9);
  auto method = make_method(tiny("simsiam"), rng);
  const Views views = fixed_views(rng, 8);
  method->loss(views.v1, views.v2).backward();
  std::vector<std::vector<double>> grads;
  for (auto& p : method->parameters()) grads.push_back(p.grad().to_vector());
  method->zero_grad();

  // Recompute by hand with the projections z taken under NoGradGuard: no path can carry a
  // gradient from the target side, so equal gradients prove the method passes none either.
  auto& backbone = method->backbone();
  auto& simsiam_method = dynamic_cast<SimSiam&>(*method);
  nn::Sequential* predictor = &simsiam_method.predictor();
  // The checkpoint names of the online network, as BYOL's, and no target network.
  REQUIRE(method->named_children().size() == 3);
  REQUIRE(method->named_children()[1].first == "projector");
  REQUIRE(method->named_children()[2].first == "predictor");
  REQUIRE(method->named_children()[2].second.get() == predictor);
  REQUIRE(method->trainable_parameters().size() == method->named_parameters().size());
  Tensor z1 = simsiam_method.projector().forward(backbone.forward(views.v1));
  Tensor z2 = simsiam_method.projector().forward(backbone.forward(views.v2));
  Tensor t1, t2;
  {
    NoGradGuard ng;
    t1 = z1.detach().clone();
    t2 = z2.detach().clone();
  }
  Tensor loss = add(mul(add(byol_loss(predictor->forward(z1), t2), byol_loss(predictor->forward(z2), t1)), 0.25), -1.0);
  loss.backward();
  auto params = method->parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    const auto g = params[i].grad().to_vector();
    for (size_t j = 0; j < g.size(); ++j) REQUIRE(g[j] == Approx(grads[i][j]).margin(1e-6));
  }
}

TEST_CASE("make_method rejects an unknown method") {
  Rng rng(1);
  REQUIRE_THROWS_WITH(make_method(tiny("mocov9"), rng), Catch::Contains("mocov9"));
}
