// Autograd mechanics and finite-difference gradient checks of the elementwise, reduction,
// linear-algebra and shape ops.
#include <catch2/catch.hpp>

#include "support/gradcheck.h"

using namespace bt;
using bt::testing::gradcheck;
using bt::testing::param;

TEST_CASE("gradient of a shared input accumulates over both uses") {
  Tensor x = Tensor::from_vector(std::vector<double>{3}, {1}, DType::f64);
  x.requires_grad_();
  Tensor y = add(mul(x, x), mul(x, 2.0));  // y = x² + 2x, dy/dx = 2x + 2 = 8
  y.backward(Tensor::ones({1}, DType::f64));
  REQUIRE(x.grad().item() == 8.0);
  // A second backward accumulates into the leaf's gradient.
  add(mul(x, x), mul(x, 2.0)).backward(Tensor::ones({1}, DType::f64));
  REQUIRE(x.grad().item() == 16.0);
}

// Gradients accumulate in place into a buffer only its slot can see (engine/autograd.cpp): add's
// backward hands one tensor to both inputs (two adds of a and b here), relu's passes a masked
// copy, a leaf is used many times, and a handle the caller keeps to a gradient sees later backward passes add into it.
TEST_CASE("in-place gradient accumulation never writes a buffer another gradient still holds") {
  Tensor x = Tensor::from_vector(std::vector<double>{0.5, -1.5, 2.0}, {3}, DType::f64).requires_grad_();
  Tensor w = Tensor::from_vector(std::vector<double>{2.0, 3.0, -1.0}, {3}, DType::f64).requires_grad_();
  // Both orders of the terms: either the shared gradient or the branch's own reaches a and b first.
  bool shared_first = false;
  auto f = [&] {
    Tensor a = mul(x, w), b = mul(x, 3.0);  // both feed s = a + b and another branch each
    Tensor s = add(a, b);
    Tensor square = mul(s, s), rest = add(add(mul(a, w), mul(add(a, b), w)), add(relu(b), x));
    return sum(shared_first ? add(square, rest) : add(rest, square));
  };
  // L = Σ (xw + 3x)² + x w² + (xw + 3x) w + relu(3x) + x
  //   ∂/∂x = 2(xw + 3x)(w + 3) + w² + (w + 3) w + 3·[x > 0] + 1
  //   ∂/∂w = 2(xw + 3x)·x + 2xw + 2xw + 3x
  const std::vector<double> xs = x.to_vector(), ws = w.to_vector();
  std::vector<double> dx(3), dw(3);
  for (int i = 0; i < 3; ++i) {
    const double s = xs[i] * ws[i] + 3 * xs[i];
    dx[i] = 2 * s * (ws[i] + 3) + ws[i] * ws[i] + (ws[i] + 3) * ws[i] + (xs[i] > 0 ? 3 : 0) + 1;
    dw[i] = 2 * s * xs[i] + 4 * xs[i] * ws[i] + 3 * xs[i];
  }
  for (bool order : {false, true}) {
    shared_first = order;
    x.zero_grad();
    w.zero_grad();
    f().backward();
    const Tensor kept = x.grad();
    for (int i = 0; i < 3; ++i) {
      CHECK(kept.to_vector()[i] == Approx(dx[i]).epsilon(1e-14));
      CHECK(w.grad().to_vector()[i] == Approx(dw[i]).epsilon(1e-14));
    }
    f().backward();  // accumulates: the kept handle is the gradient's buffer
    for (int i = 0; i < 3; ++i) {
      CHECK(kept.to_vector()[i] == Approx(2 * dx[i]).epsilon(1e-14));
      CHECK(w.grad().to_vector()[i] == Approx(2 * dw[i]).epsilon(1e-14));
    }
  }
  Rng rng(11);
  gradcheck([](auto& v) {
    Tensor a = mul(v[0], v[1]), b = mul(v[0], 3.0);
    Tensor s = add(a, b);
    return sum(add(add(mul(s, s), mul(a, v[1])), add(mul(add(a, b), v[1]), add(relu(b), v[0]))));
  }, {param({5}, rng), param({5}, rng)});
}

// cat's backward hands each input a slice of one gradient buffer; the leaf that receives the
// last slice holds the only handle to that buffer, but must not keep all of it as its gradient.
TEST_CASE("a leaf whose gradient arrives as a slice of a larger buffer keeps a buffer of its own size") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2}, {2}, DType::f64).requires_grad_();
  Tensor b = Tensor::from_vector(std::vector<double>{3, 4, 5}, {3}, DType::f64).requires_grad_();
  const Tensor w = Tensor::from_vector(std::vector<double>{10, 20, 30, 40, 50}, {5}, DType::f64);
  sum(mul(cat({a, b}, 0), w)).backward();
  CHECK(a.grad().to_vector() == std::vector<double>{10, 20});
  CHECK(b.grad().to_vector() == std::vector<double>{30, 40, 50});
  for (const Tensor& g : {a.grad(), b.grad()}) CHECK(g.storage()->bytes() == size_t(g.numel()) * sizeof(double));
}

// A gradient the caller passes to backward() is never written: the root's first gradient is
// copied unless nothing else can see it.
TEST_CASE("backward leaves the caller's gradient tensor untouched") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2}, {2}, DType::f64).requires_grad_();
  const Tensor g = Tensor::from_vector(std::vector<double>{1, 1}, {2}, DType::f64);
  x.backward(g);
  x.backward(g);
  CHECK(g.to_vector() == std::vector<double>{1, 1});
  CHECK(x.grad().to_vector() == std::vector<double>{2, 2});
}

TEST_CASE("NoGradGuard and detach record nothing") {
  Tensor x = Tensor::ones({2}, DType::f64);
  x.requires_grad_();
  {
    NoGradGuard ng;
    REQUIRE_FALSE(mul(x, 2.0).requires_grad());
  }
  REQUIRE_FALSE(mul(x.detach(), 2.0).requires_grad());
  REQUIRE(mul(x, 2.0).requires_grad());
}

TEST_CASE("backward errors are clear") {
  Tensor x = Tensor::ones({2}, DType::f64);
  x.requires_grad_();
  REQUIRE_THROWS_WITH(mul(x, 2.0).backward(), Catch::Contains("one-element"));
  REQUIRE_THROWS_WITH(Tensor::ones({2}).backward(), Catch::Contains("does not require grad"));
  REQUIRE_THROWS_WITH(mul(x, 2.0).backward(Tensor::ones({3}, DType::f64)),
                      Catch::Contains("(3,)") && Catch::Contains("(2,)"));
}

TEST_CASE("gradcheck: binary ops with broadcasting") {
  Rng rng(1);
  Tensor a = param({3, 4}, rng), b = param({4}, rng), c = param({3, 1}, rng);
  Tensor pos = param({3, 4}, rng, 0.5, 2.0);
  gradcheck([](auto& v) { return add(v[0], v[1]); }, {a, b});
  gradcheck([](auto& v) { return sub(v[0], v[1]); }, {a, c});
  gradcheck([](auto& v) { return mul(v[0], v[1]); }, {a, b});
  gradcheck([](auto& v) { return div(v[0], v[1]); }, {a, pos});
  gradcheck([](auto& v) { return div(v[0], v[1]); }, {c, pos});
}

TEST_CASE("gradcheck: unary ops") {
  Rng rng(2);
  Tensor x = param({5, 3}, rng);
  Tensor pos = param({5, 3}, rng, 0.5, 2.0);
  gradcheck([](auto& v) { return neg(v[0]); }, {x});
  gradcheck([](auto& v) { return exp(v[0]); }, {x});
  gradcheck([](auto& v) { return log(v[0]); }, {pos});
  gradcheck([](auto& v) { return sqrt(v[0]); }, {pos});
  gradcheck([](auto& v) { return pow(v[0], 3.0); }, {x});
  gradcheck([](auto& v) { return add(v[0], 1.5); }, {x});
  gradcheck([](auto& v) { return mul(v[0], -2.0); }, {x});
}

TEST_CASE("gradcheck: relu away from its kink") {
  // ReLU is not differentiable at 0: inputs are kept at least 0.1 away from it.
  std::vector<double> v{-1.0, -0.3, 0.2, 0.7, -0.1, 1.5};
  Tensor x = Tensor::from_vector(v, {2, 3}, DType::f64);
  x.requires_grad_();
  gradcheck([](auto& in) { return relu(in[0]); }, {x});
}

TEST_CASE("gradcheck: add_relu away from its kink, and equal to relu(add)") {
  // a + b kept at least 0.1 away from 0, where ReLU has its kink.
  Tensor a = Tensor::from_vector(std::vector<double>{-1.0, 0.5, 0.2, 0.7, -0.1, 1.5}, {2, 3}, DType::f64);
  Tensor b = Tensor::from_vector(std::vector<double>{0.3, -0.8, 0.3, -0.9, -0.4, 0.2}, {2, 3}, DType::f64);
  a.requires_grad_();
  b.requires_grad_();
  gradcheck([](auto& in) { return add_relu(in[0], in[1]); }, {a, b});
  CHECK(add_relu(a, b).to_vector() == relu(add(a, b)).to_vector());
  CHECK_THROWS_WITH(add_relu(a, Tensor::zeros({3, 2}, DType::f64)), "add_relu: shapes (2, 3) and (3, 2) differ");
}

TEST_CASE("gradcheck: reductions") {
  Rng rng(3);
  Tensor x = param({2, 3, 4}, rng);
  gradcheck([](auto& v) { return sum(v[0]); }, {x});
  gradcheck([](auto& v) { return sum(v[0], {1}); }, {x});
  gradcheck([](auto& v) { return sum(v[0], {0, 2}, true); }, {x});
  gradcheck([](auto& v) { return mean(v[0], {-1}); }, {x});
  gradcheck([](auto& v) { return mean(v[0]); }, {x});
}

TEST_CASE("sum over dims matches hand-computed values") {
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  REQUIRE(sum(x, {0}).to_vector() == std::vector<double>{5, 7, 9});
  REQUIRE(sum(x, {1}).to_vector() == std::vector<double>{6, 15});
  REQUIRE(sum(x).item() == 21);
  REQUIRE(mean(x, {1}, true).shape() == Shape{2, 1});
}

TEST_CASE("gradcheck: matmul and linear, including transposed views") {
  Rng rng(4);
  Tensor a = param({3, 5}, rng), b = param({5, 2}, rng), bias = param({2}, rng);
  Tensor w = param({2, 5}, rng);
  gradcheck([](auto& v) { return matmul(v[0], v[1]); }, {a, b});
  gradcheck([](auto& v) { return matmul(v[0].t(), v[1].t()); }, {param({5, 3}, rng), param({2, 5}, rng)});
  gradcheck([](auto& v) { return linear(v[0], v[1], v[2]); }, {a, w, bias});
}

TEST_CASE("matmul matches a hand-computed product") {
  Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector(std::vector<double>{7, 8, 9, 10, 11, 12}, {3, 2});
  // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]
  REQUIRE(matmul(a, b).to_vector() == std::vector<double>{58, 64, 139, 154});
  REQUIRE(matmul(b.t(), a.t()).to_vector() == std::vector<double>{58, 139, 64, 154});
}

TEST_CASE("gradcheck: views, cat and dtype conversion") {
  Rng rng(5);
  Tensor x = param({4, 3}, rng), y = param({2, 3}, rng);
  gradcheck([](auto& v) { return v[0].slice(0, 1, 3); }, {x});
  gradcheck([](auto& v) { return v[0].t().contiguous(); }, {x});
  gradcheck([](auto& v) { return v[0].reshape({3, 4}); }, {x});
  gradcheck([](auto& v) { return v[0].flatten(); }, {x});
  gradcheck([](auto& v) { return cat({v[0], v[1]}, 0); }, {x, y});
  gradcheck([](auto& v) { return cat({v[0].t(), v[1].t()}, 1); }, {x, y});
  gradcheck([](auto& v) { return v[0].clone(); }, {x});
  gradcheck([](auto& v) { return v[0].to(DType::f32).to(DType::f64); }, {x},
            {.h = 1e-3, .atol = 1e-4, .rtol = 1e-3});
}
