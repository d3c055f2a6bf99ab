// nn::Module and the layers: torchvision names and order, counts, init, train/eval,
// state_dict round trips and load_state_dict errors, zero_grad, to(Device).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include "engine/nn/batch_norm.h"
#include "engine/nn/conv2d.h"
#include "engine/nn/linear.h"
#include "engine/nn/sequential.h"
#include "engine/ops.h"

using namespace bt;
using namespace bt::nn;

namespace {

std::vector<std::string> names_of(const NamedTensors& list) {
  std::vector<std::string> out;
  for (const auto& entry : list) out.push_back(entry.first);
  return out;
}

// Linear(4→8, no bias) → BatchNorm1d(8) → ReLU → Linear(8→3): a projector-like stack.
std::shared_ptr<Sequential> make_mlp(uint64_t seed) {
  Rng rng(seed);
  auto seq = std::make_shared<Sequential>();
  seq->push_back(std::make_shared<Linear>(4, 8, rng, /*bias=*/false));
  seq->push_back(std::make_shared<BatchNorm1d>(8));
  seq->push_back(std::make_shared<ReLU>());
  seq->push_back(std::make_shared<Linear>(8, 3, rng));
  return seq;
}

// A torchvision-like BasicBlock fragment: conv1 → bn1, to check nested names.
struct Block : Module {
  explicit Block(Rng& rng) {
    conv1 = register_module("conv1", std::make_shared<Conv2d>(3, 4, 3, rng, 1, 1));
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(4));
  }
  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
};

struct TinyNet : Module {
  explicit TinyNet(Rng& rng) {
    conv1 = register_module("conv1", std::make_shared<Conv2d>(3, 3, 3, rng, 1, 1));
    auto layer1 = std::make_shared<Sequential>();
    layer1->push_back(std::make_shared<Block>(rng));
    register_module("layer1", layer1);
    auto head = std::make_shared<BatchNorm1d>(5, /*affine=*/false);
    register_module("bn", head);
  }
  std::shared_ptr<Conv2d> conv1;
};

}  // namespace

TEST_CASE("Sequential of Linear/BN/ReLU: parameter and buffer names, order, count") {
  auto mlp = make_mlp(1);
  REQUIRE(mlp->size() == 4);
  REQUIRE(names_of(mlp->named_parameters()) ==
          std::vector<std::string>{"0.weight", "1.weight", "1.bias", "3.weight", "3.bias"});
  REQUIRE(names_of(mlp->named_buffers()) ==
          std::vector<std::string>{"1.running_mean", "1.running_var", "1.num_batches_tracked"});
  // 8·4 (no bias) + 8 + 8 (BN affine) + 3·8 + 3 = 75
  REQUIRE(mlp->parameter_count() == 75);
  REQUIRE(mlp->parameters().size() == 5);
  for (const Tensor& p : mlp->parameters()) REQUIRE(p.requires_grad());
  for (const Tensor& b : mlp->buffers()) REQUIRE_FALSE(b.requires_grad());
  REQUIRE(mlp->state_dict().size() == 8);
}

TEST_CASE("nested modules get torchvision names") {
  Rng rng(3);
  TinyNet net(rng);
  REQUIRE(names_of(net.named_parameters()) ==
          std::vector<std::string>{"conv1.weight", "layer1.0.conv1.weight",
                                   "layer1.0.bn1.weight", "layer1.0.bn1.bias"});
  REQUIRE(names_of(net.named_buffers()) ==
          std::vector<std::string>{"layer1.0.bn1.running_mean", "layer1.0.bn1.running_var",
                                   "layer1.0.bn1.num_batches_tracked", "bn.running_mean",
                                   "bn.running_var", "bn.num_batches_tracked"});
  // 3·3·3·3 + 4·3·3·3 + 4 + 4
  REQUIRE(net.parameter_count() == 81 + 108 + 8);
  const Tensor nbt = net.state_dict().at("bn.num_batches_tracked");
  REQUIRE(nbt.dim() == 0);
  REQUIRE(nbt.dtype() == DType::f64);
  REQUIRE_THROWS_WITH(net.register_buffer("bn", Tensor::zeros({1})),
                      Catch::Contains("'bn' is already registered"));
  REQUIRE_THROWS_WITH(net.register_buffer("a.b", Tensor::zeros({1})),
                      Catch::Contains("invalid name 'a.b'"));
}

TEST_CASE("layer initialisation: PyTorch defaults, kaiming fan_out, BN ones/zeros, seeded") {
  Rng rng(11);
  Linear lin(16, 32, rng);
  const double bound = 1.0 / std::sqrt(16.0);  // U(−1/√in, 1/√in)
  for (double v : lin.weight.to_vector()) REQUIRE(std::abs(v) <= bound);
  for (double v : lin.bias.to_vector()) REQUIRE(std::abs(v) <= bound);

  Rng a(5), b(5);
  REQUIRE(Linear(8, 8, a).weight.to_vector() == Linear(8, 8, b).weight.to_vector());

  // kaiming_normal_(fan_out, relu): std = √(2 / (64·3·3)) ≈ 0.05893 over 36864 samples.
  Conv2d conv(64, 64, 3, rng);
  const std::vector<double> w = conv.weight.to_vector();
  double s2 = 0;
  for (double v : w) s2 += v * v;
  REQUIRE(std::sqrt(s2 / double(w.size())) == Approx(std::sqrt(2.0 / 576.0)).epsilon(0.03));
  REQUIRE_FALSE(conv.bias.defined());

  BatchNorm2d bn(3);
  REQUIRE(bn.weight.to_vector() == std::vector<double>{1, 1, 1});
  REQUIRE(bn.bias.to_vector() == std::vector<double>{0, 0, 0});
  REQUIRE(bn.running_mean.to_vector() == std::vector<double>{0, 0, 0});
  REQUIRE(bn.running_var.to_vector() == std::vector<double>{1, 1, 1});
  REQUIRE(bn.num_batches_tracked.item() == 0);
}

TEST_CASE("train/eval switches BatchNorm between batch and running statistics") {
  BatchNorm1d bn(2);
  // x (4, 2): column 0 = 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3);
  //           column 1 = 2, 2, 2, 2 (mean 2, var 0).
  const Tensor x =
      Tensor::from_vector(std::vector<double>{1, 2, 2, 2, 3, 2, 4, 2}, {4, 2});
  REQUIRE(bn.is_training());
  const std::vector<double> y = bn(x).to_vector();
  const double inv = 1.0 / std::sqrt(1.25 + 1e-5);
  for (int i = 0; i < 4; ++i) {
    CHECK(y[2 * i] == Approx((i + 1 - 2.5) * inv).margin(1e-5));
    CHECK(y[2 * i + 1] == Approx(0.0).margin(1e-5));
  }
  // running = 0.9·running + 0.1·batch: mean (0.25, 0.2), var (0.9 + 0.1·5/3, 0.9)
  const std::vector<double> rm = bn.running_mean.to_vector(), rv = bn.running_var.to_vector();
  CHECK(rm[0] == Approx(0.25));
  CHECK(rm[1] == Approx(0.2));
  CHECK(rv[0] == Approx(0.9 + 0.1 * 5.0 / 3.0));
  CHECK(rv[1] == Approx(0.9));
  CHECK(bn.num_batches_tracked.item() == 1);

  bn.eval();
  REQUIRE_FALSE(bn.is_training());
  const std::vector<double> ye = bn(x).to_vector();  // (x − rm)/√(rv + eps), stats unchanged
  for (int i = 0; i < 4; ++i) {
    CHECK(ye[2 * i] == Approx((i + 1 - rm[0]) / std::sqrt(rv[0] + 1e-5)).margin(1e-5));
    CHECK(ye[2 * i + 1] == Approx((2 - rm[1]) / std::sqrt(rv[1] + 1e-5)).margin(1e-5));
  }
  CHECK(bn.running_mean.to_vector() == rm);
  CHECK(bn.num_batches_tracked.item() == 1);

  REQUIRE_THROWS_WITH(bn(Tensor::zeros({4, 3})),
                      Catch::Contains("BatchNorm1d(2)") && Catch::Contains("(4, 3)"));
}

TEST_CASE("train()/eval() recurse into children") {
  auto mlp = make_mlp(1);
  mlp->eval();
  for (const auto& [name, child] : mlp->named_children()) REQUIRE_FALSE(child->is_training());
  mlp->train();
  REQUIRE((*mlp)[1].is_training());
}

TEST_CASE("state_dict round trip reproduces parameters, running stats and outputs") {
  auto a = make_mlp(1), b = make_mlp(2);
  const Tensor x = Tensor::from_vector(
      std::vector<double>{0.5, -1, 2, 0.1, 1.5, 0.3, -0.7, 1, -2, 0.4, 0.9, -0.2}, {3, 4});
  a->forward(x);  // moves a's running statistics away from their init
  REQUIRE(a->state_dict().at("0.weight").to_vector() !=
          b->state_dict().at("0.weight").to_vector());

  b->load_state_dict(a->state_dict());
  const StateDict sa = a->state_dict(), sb = b->state_dict();
  REQUIRE(sa.size() == sb.size());
  for (const auto& [name, t] : sa) REQUIRE(sb.at(name).to_vector() == t.to_vector());
  a->eval();
  b->eval();
  REQUIRE(a->forward(x).to_vector() == b->forward(x).to_vector());

  // load_state_dict writes into the existing tensors: handles held elsewhere see it.
  const Tensor w = b->named_parameters()[0].second;
  StateDict zeros = a->state_dict();
  zeros["0.weight"] = Tensor::zeros({8, 4}, DType::f64);  // converted on copy
  b->load_state_dict(zeros);
  REQUIRE(w.dtype() == DType::f32);
  REQUIRE(w.to_vector() == std::vector<double>(32, 0.0));
}

TEST_CASE("load_state_dict names missing and unexpected keys and both shapes") {
  auto net = make_mlp(1);
  const std::vector<double> before = net->named_parameters()[0].second.to_vector();

  StateDict missing = make_mlp(2)->state_dict();
  missing.erase("1.running_var");
  REQUIRE_THROWS_WITH(net->load_state_dict(missing),
                      Catch::Contains("missing key '1.running_var'"));

  StateDict extra = make_mlp(2)->state_dict();
  extra["head.weight"] = Tensor::zeros({2});
  REQUIRE_THROWS_WITH(net->load_state_dict(extra),
                      Catch::Contains("unexpected key 'head.weight'"));

  StateDict wrong = make_mlp(2)->state_dict();
  wrong["0.weight"] = Tensor::zeros({8, 5});
  REQUIRE_THROWS_WITH(net->load_state_dict(wrong), Catch::Contains("'0.weight'") &&
                                                       Catch::Contains("(8, 5)") &&
                                                       Catch::Contains("(8, 4)"));
  // Nothing was written by the failed loads.
  REQUIRE(net->named_parameters()[0].second.to_vector() == before);

  // Non-strict: missing and unexpected keys are skipped, shape mismatches still fail.
  StateDict partial = make_mlp(2)->state_dict();
  partial.erase("3.bias");
  partial["head.weight"] = Tensor::zeros({2});
  net->load_state_dict(partial, /*strict=*/false);
  REQUIRE(net->named_parameters()[0].second.to_vector() == partial.at("0.weight").to_vector());
  REQUIRE_THROWS_WITH(net->load_state_dict(wrong, /*strict=*/false),
                      Catch::Contains("shape mismatch for '0.weight'"));
}

TEST_CASE("zero_grad drops gradients; to(Device) moves tensors and keeps handles") {
  auto mlp = make_mlp(4);
  const Tensor x = Tensor::from_vector(
      std::vector<double>{0.5, -1, 2, 0.1, 1.5, 0.3, -0.7, 1, -2, 0.4, 0.9, -0.2}, {3, 4});
  sum(mlp->forward(x)).backward();
  for (const Tensor& p : mlp->parameters()) REQUIRE(p.grad().defined());
  mlp->zero_grad();
  for (const Tensor& p : mlp->parameters()) REQUIRE_FALSE(p.grad().defined());

  Rng rng(9);
  Linear lin(3, 2, rng);
  const Tensor handle = lin.weight;
  const std::vector<double> values = handle.to_vector();
  lin.to(Device::simt);
  REQUIRE(handle.device() == Device::simt);
  REQUIRE(lin.named_parameters()[0].second.same(handle));
  REQUIRE(handle.to_vector() == values);
  lin.to(Device::cpu);
  REQUIRE(handle.device() == Device::cpu);
  REQUIRE(lin.forward(Tensor::ones({1, 3})).shape() == Shape{1, 2});
}
