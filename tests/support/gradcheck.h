#pragma once
// Finite-difference gradient checks in float64 (docs/design.md §7). The function's output is reduced
// to a scalar L = Σ out ⊙ W with a fixed random W, so every output element is exercised; each
// input element's ∂L/∂x is compared with the central difference (L(x+h) − L(x−h)) / 2h.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <sstream>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/rng.h"

namespace bt::testing {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
  double h = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-5;
  uint64_t seed = 1234;
};

// Inputs must be float64 CPU tensors; those with requires_grad are checked.
inline void gradcheck(const Fn& f, std::vector<Tensor> inputs, GradcheckOptions opt = {}) {
  for (auto& x : inputs) REQUIRE(x.dtype() == DType::f64);
  Rng rng(opt.seed);
  Tensor out0;
  {
    NoGradGuard ng;
    out0 = f(inputs);
  }
  const Tensor w = randn(out0.shape(), rng, DType::f64);
  auto loss = [&](const std::vector<Tensor>& xs) { return sum(mul(f(xs), w)); };

  for (auto& x : inputs) x.zero_grad();
  loss(inputs).backward();

  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor x = inputs[k];
    if (!x.requires_grad()) continue;
    REQUIRE(x.grad().defined());
    const std::vector<double> analytic = x.grad().to_vector();
    double* p = x.data<double>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double saved = p[i];
      double lp, lm;
      {
        NoGradGuard ng;
        p[i] = saved + opt.h;
        lp = loss(inputs).item();
        p[i] = saved - opt.h;
        lm = loss(inputs).item();
        p[i] = saved;
      }
      const double numeric = (lp - lm) / (2 * opt.h);
      const double tol = opt.atol + opt.rtol * std::abs(numeric);
      if (std::abs(analytic[i] - numeric) > tol) {
        std::ostringstream os;
        os << "input " << k << " element " << i << ": autograd " << analytic[i]
           << " vs finite difference " << numeric;
        FAIL(os.str());
      }
    }
  }
  SUCCEED();
}

// A float64 tensor with values in [lo, hi) that requires grad.
inline Tensor param(const Shape& shape, Rng& rng, double lo = -1, double hi = 1) {
  Tensor t = rand(shape, rng, lo, hi, DType::f64);
  t.requires_grad_();
  return t;
}

}  // namespace bt::testing
