// Rotation prediction (methods/rotation): the quarter turns against index formulas derived by
// hand (and a 2×2 case turned on paper), the batch of four rotations and its labels, the
// method's loss against a float64 plain-loop log-softmax/NLL of its own features and head,
// a gradcheck of head + loss, the rotations on the SIMT emulator, the recipe, and a few
// training steps lowering the loss.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "engine/ops.h"
#include "engine/optim/param_groups.h"
#include "engine/optim/sgd.h"
#include "methods/method.h"
#include "methods/registry.h"
#include "methods/rotation/rotate.h"
#include "methods/rotation/rotation.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random_vector.h"

using namespace bt;
using namespace bt::methods;

namespace {

constexpr int64_t kN = 2, kC = 3, kS = 4;  // a small batch of square images

// The element of rot_k(x) at (n, c, i, j), read off a counter-clockwise turn of an S×S grid
// (torch.rot90 with dims (2, 3)): a quarter turn moves column S−1−i of the input to row i.
double rotated_at(const std::vector<double>& x, int k, int64_t n, int64_t c, int64_t i, int64_t j) {
  const int64_t S = kS;
  int64_t a = i, b = j;
  if (k == 1) a = j, b = S - 1 - i;
  if (k == 2) a = S - 1 - i, b = S - 1 - j;
  if (k == 3) a = S - 1 - j, b = i;
  return x[size_t(((n * kC + c) * S + a) * S + b)];
}

std::vector<double> expected_rotation(const std::vector<double>& x, int k) {
  std::vector<double> out;
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t c = 0; c < kC; ++c)
      for (int64_t i = 0; i < kS; ++i)
        for (int64_t j = 0; j < kS; ++j) out.push_back(rotated_at(x, k, n, c, i, j));
  return out;
}

// Mean over rows of −log softmax(logits)[label], logits = f wᵀ + b, in plain float64 loops.
double reference_loss(const std::vector<double>& f, const std::vector<double>& w, const std::vector<double>& b,
                      const std::vector<int64_t>& labels, int64_t D) {
  const int64_t rows = int64_t(labels.size()), classes = int64_t(b.size());
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> logit(static_cast<size_t>(classes));
    double mx = -1e300;
    for (int64_t k = 0; k < classes; ++k) {
      double s = b[size_t(k)];
      for (int64_t d = 0; d < D; ++d) s += f[size_t(r * D + d)] * w[size_t(k * D + d)];
      logit[size_t(k)] = s;
      mx = std::max(mx, s);
    }
    double z = 0;
    for (double l : logit) z += std::exp(l - mx);
    total -= logit[size_t(labels[size_t(r)])] - mx - std::log(z);
  }
  return total / double(rows);
}

MethodConfig tiny_config() {
  MethodConfig c;
  c.method = "rotation";
  c.backbone = {.arch = "resnet18", .stem = models::Stem::cifar, .width = 8};
  return c;
}

}  // namespace

TEST_CASE("rotation: a 2×2 image turned by hand", "[rotation]") {
  // [[1, 2], [3, 4]] turned a quarter counter-clockwise is [[2, 4], [1, 3]], half is
  // [[4, 3], [2, 1]], three quarters is [[3, 1], [4, 2]].
  const Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {1, 1, 2, 2}, DType::f64);
  CHECK(rotate90(x, 0).to_vector() == std::vector<double>{1, 2, 3, 4});
  CHECK(rotate90(x, 1).to_vector() == std::vector<double>{2, 4, 1, 3});
  CHECK(rotate90(x, 2).to_vector() == std::vector<double>{4, 3, 2, 1});
  CHECK(rotate90(x, 3).to_vector() == std::vector<double>{3, 1, 4, 2});
}

TEST_CASE("rotation: rotate90 is the hand-derived index permutation for every k", "[rotation]") {
  const std::vector<double> x = testing::randv<double>(size_t(kN * kC * kS * kS), 7);
  const Tensor t = Tensor::from_vector(x, {kN, kC, kS, kS}, DType::f64);
  for (int k = 0; k < 4; ++k) {
    INFO("k = " << k);
    CHECK(rotate90(t, k).to_vector() == expected_rotation(x, k));
    CHECK(rotate90(t.to(DType::f32), k).to_vector() == expected_rotation(rotate90(t, 0).to(DType::f32).to_vector(), k));
    // A non-contiguous input (a transposed view) is read through its strides.
    const Tensor tt = t.transpose(2, 3).contiguous().transpose(2, 3);
    REQUIRE_FALSE(tt.is_contiguous());
    CHECK(rotate90(tt, k).to_vector() == expected_rotation(x, k));
  }
  // Four quarter turns are the identity; two are a half turn.
  CHECK(rotate90(rotate90(rotate90(rotate90(t, 1), 1), 1), 1).to_vector() == x);
  CHECK(rotate90(rotate90(t, 1), 1).to_vector() == rotate90(t, 2).to_vector());
}

TEST_CASE("rotation: the four-rotation batch and its labels", "[rotation]") {
  const std::vector<double> x = testing::randv<double>(size_t(kN * kC * kS * kS), 8);
  const RotationBatch b = rotation_batch(Tensor::from_vector(x, {kN, kC, kS, kS}, DType::f64));
  REQUIRE(b.images.shape() == Shape{4 * kN, kC, kS, kS});
  std::vector<double> want;
  for (int k = 0; k < 4; ++k) {
    const std::vector<double> r = expected_rotation(x, k);
    want.insert(want.end(), r.begin(), r.end());
  }
  CHECK(b.images.to_vector() == want);
  CHECK(b.labels == std::vector<int64_t>{0, 0, 1, 1, 2, 2, 3, 3});
}

TEST_CASE("rotation (simt): the device copies match the formulas", "[rotation][simt]") {
  const std::vector<double> x = testing::randv<double>(size_t(kN * kC * kS * kS), 9);
  const Tensor t = Tensor::from_vector(x, {kN, kC, kS, kS}, DType::f32);
  const std::vector<double> xf = t.to_vector();
  const RotationBatch b = rotation_batch(t.to(Device::simt));
  REQUIRE(b.images.device() == Device::simt);
  const std::vector<double> got = b.images.to(Device::cpu).to_vector();
  const size_t block = xf.size();
  for (int k = 0; k < 4; ++k) {
    INFO("k = " << k);
    CHECK(std::vector<double>(got.begin() + long(k * block), got.begin() + long((k + 1) * block)) ==
          expected_rotation(xf, k));
  }
}

TEST_CASE("rotation: bad inputs are one-line errors", "[rotation]") {
  CHECK_THROWS_WITH(rotate90(Tensor::zeros({1, 3, 4, 5}), 1), Catch::Contains("square"));
  CHECK_THROWS_WITH(rotate90(Tensor::zeros({1, 3, 4, 4}), 4), Catch::Contains("0, 1, 2 or 3"));
  CHECK_THROWS_WITH(rotation_batch(Tensor::zeros({3, 4, 4})), Catch::Contains("(N, C, H, W)"));
  Tensor g = Tensor::zeros({1, 3, 4, 4});
  g.requires_grad_();
  CHECK_THROWS_WITH(rotation_batch(g), Catch::Contains("gradient"));
}

TEST_CASE("rotation: the method's loss is the float64 log-softmax NLL of its features and head", "[rotation]") {
  Rng rng(5);
  MethodConfig c = tiny_config();
  auto method = make_method(c, rng);
  REQUIRE(method->name() == "rotation");
  auto& rot = dynamic_cast<RotationPrediction&>(*method);
  const Tensor x = randn({3, 3, 8, 8}, rng);
  const double loss = method->loss(x, randn(x.shape(), rng)).item();
  // The same batch through the backbone again (training mode: batch statistics, the same
  // features), then the head and loss in plain loops.
  const RotationBatch b = rotation_batch(x);
  const std::vector<double> f = method->backbone().forward(b.images).to_vector();
  const nn::StateDict head = rot.head().state_dict();
  const std::vector<double> w = head.at("0.weight").to_vector(), bias = head.at("0.bias").to_vector();
  REQUIRE(bias.size() == 4);
  const int64_t D = method->backbone().feature_dim();
  CHECK(loss == Approx(reference_loss(f, w, bias, b.labels, D)).epsilon(1e-5));
  CHECK(method->last_z1().shape() == Shape{3, D});
}

TEST_CASE("rotation: gradcheck of the head and loss in float64", "[rotation]") {
  Rng rng(6);
  const int64_t D = 5;
  Tensor f = testing::param({8, D}, rng), w = testing::param({4, D}, rng), b = testing::param({4}, rng);
  const std::vector<int64_t> labels{0, 0, 1, 1, 2, 2, 3, 3};
  testing::gradcheck([&](auto& v) { return cross_entropy(linear(v[0], v[1], v[2]), labels); }, {f, w, b});
  // And the value against the plain loops.
  CHECK(cross_entropy(linear(f, w, b), labels).item() ==
        Approx(reference_loss(f.to_vector(), w.to_vector(), b.to_vector(), labels, D)).epsilon(1e-12));
}

TEST_CASE("rotation: the recipe is the paper's SGD on the weakest views", "[rotation][registry]") {
  const MethodEntry& e = find_method("rotation");
  CHECK(e.recipe.optimizer == "sgd");
  CHECK(e.recipe.lr == 0.1);
  CHECK(e.recipe.weight_decay == 5e-4);
  CHECK(e.recipe.views == "simsiam");
  CHECK_FALSE(e.plots.cross_correlation_heatmap);
}

TEST_CASE("rotation: 30 optimizer steps on one fixed batch lower the loss markedly", "[rotation][methods]") {
  Rng rng(42);
  auto method = make_method(tiny_config(), rng);
  // Images with structure a rotation changes (a horizontal gradient plus noise).
  Tensor ramp = Tensor::from_vector(std::vector<double>{-1.5, -0.5, 0.5, 1.5, -1.5, -0.5, 0.5, 1.5, -1.5, -0.5,
                                                        0.5, 1.5},
                                    {1, 1, 1, 12});
  Tensor x = add(randn({16, 3, 12, 12}, rng), ramp);
  optim::SGD opt(optim::decay_groups(method->trainable_parameters(), 5e-4));
  opt.set_lr(0.05);
  double first = 0, last = 0;
  for (int step = 1; step <= 30; ++step) {
    opt.zero_grad();
    Tensor loss = method->loss(x, x);
    if (step == 1) first = loss.item();
    last = loss.item();
    loss.backward();
    opt.step();
  }
  INFO("loss " << first << " -> " << last);
  CHECK(first == Approx(std::log(4.0)).margin(0.3));  // about chance at initialisation
  REQUIRE(last < 0.5 * first);
}
