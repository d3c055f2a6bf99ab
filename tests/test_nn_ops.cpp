// Finite-difference gradient checks of the neural-network ops (float64), plus hand cases.
#include <catch2/catch.hpp>

#include <cmath>

#include "support/gradcheck.h"

using namespace bt;
using bt::testing::gradcheck;
using bt::testing::param;

TEST_CASE("gradcheck: conv2d with stride and padding") {
  Rng rng(10);
  Tensor x = param({2, 3, 6, 5}, rng), w = param({4, 3, 3, 3}, rng);
  gradcheck([](auto& v) { return conv2d(v[0], v[1], 1, 1); }, {x, w});
  gradcheck([](auto& v) { return conv2d(v[0], v[1], 2, 0); }, {x, w});
  Tensor w1 = param({2, 3, 1, 1}, rng);
  gradcheck([](auto& v) { return conv2d(v[0], v[1], 2, 0); }, {x, w1});
}

TEST_CASE("conv2d on a hand-computed case") {
  // x = [[1 2 3] [4 5 6] [7 8 9]], w = [[1 0] [0 -1]] -> y[p][q] = x[p][q] − x[p+1][q+1] = −4.
  Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor w = Tensor::from_vector(std::vector<double>{1, 0, 0, -1}, {1, 1, 2, 2});
  REQUIRE(conv2d(x, w).to_vector() == std::vector<double>{-4, -4, -4, -4});
}

TEST_CASE("gradcheck: batch_norm train and eval, 1d and 2d, with and without affine") {
  Rng rng(11);
  Tensor x2 = param({3, 4, 2, 3}, rng), x1 = param({5, 4}, rng);
  Tensor g = param({4}, rng, 0.5, 1.5), b = param({4}, rng);
  Tensor rm = Tensor::zeros({4}, DType::f64), rv = Tensor::ones({4}, DType::f64);
  for (const Tensor& x : {x1, x2}) {
    gradcheck([&](auto& v) { return batch_norm(v[0], v[1], v[2], Tensor(), Tensor(), true); }, {x, g, b});
    gradcheck([&](auto& v) { return batch_norm(v[0], Tensor(), Tensor(), Tensor(), Tensor(), true); }, {x});
    gradcheck([&](auto& v) { return batch_norm(v[0], v[1], v[2], rm, rv, false); }, {x, g, b});
  }
}

TEST_CASE("batch_norm training updates running stats with the unbiased variance") {
  // One channel, values {1, 3}: mean 2, biased var 1, unbiased var 2.
  Tensor x = Tensor::from_vector(std::vector<double>{1, 3}, {2, 1}, DType::f64);
  Tensor rm = Tensor::zeros({1}, DType::f64), rv = Tensor::ones({1}, DType::f64);
  Tensor y = batch_norm(x, Tensor(), Tensor(), rm, rv, true, 0.1, 0.0);
  REQUIRE(y.to_vector() == std::vector<double>{-1, 1});
  REQUIRE(rm.item() == Approx(0.2));        // 0.9·0 + 0.1·2
  REQUIRE(rv.item() == Approx(1.1));        // 0.9·1 + 0.1·2
}

TEST_CASE("gradcheck: batch_norm_relu equals relu(batch_norm) and differentiates") {
  Rng rng(12);
  Tensor x = param({4, 3, 2, 2}, rng), g = param({3}, rng, 0.5, 1.5), b = param({3}, rng, -0.2, 0.2);
  Tensor fused = batch_norm_relu(x, g, b, Tensor(), Tensor(), true);
  Tensor composed = relu(batch_norm(x, g, b, Tensor(), Tensor(), true));
  const auto fv = fused.to_vector(), cv = composed.to_vector();
  for (size_t i = 0; i < fv.size(); ++i) REQUIRE(fv[i] == Approx(cv[i]).margin(1e-12));
  gradcheck([&](auto& v) { return batch_norm_relu(v[0], v[1], v[2], Tensor(), Tensor(), true); }, {x, g, b});
}

TEST_CASE("gradcheck: pooling") {
  Rng rng(13);
  Tensor x = param({2, 3, 7, 6}, rng);  // distinct random values: no ties inside a window
  gradcheck([](auto& v) { return max_pool2d(v[0], 3, 2, 1); }, {x});
  gradcheck([](auto& v) { return max_pool2d(v[0], 2, 2, 0); }, {x});
  gradcheck([](auto& v) { return global_avg_pool2d(v[0]); }, {x});
}

TEST_CASE("gradcheck: log_softmax, cross_entropy, l2_normalize") {
  Rng rng(14);
  Tensor x = param({4, 5}, rng, -3, 3);
  gradcheck([](auto& v) { return log_softmax(v[0]); }, {x});
  gradcheck([](auto& v) { return cross_entropy(v[0], {0, 4, 2, 2}); }, {x});
  gradcheck([](auto& v) { return l2_normalize(v[0]); }, {x});
}

TEST_CASE("cross_entropy of uniform logits is log(classes)") {
  Tensor x = Tensor::zeros({3, 7}, DType::f64);
  REQUIRE(cross_entropy(x, {0, 3, 6}).item() == Approx(std::log(7.0)));
  REQUIRE_THROWS_WITH(cross_entropy(x, {0, 7, 1}), Catch::Contains("label 7"));
}
