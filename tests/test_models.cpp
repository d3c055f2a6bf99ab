// ResNet structure against torchvision: parameter counts, names, shapes, and the forward pass.
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "models/mlp.h"
#include "models/resnet.h"

using namespace bt;
using namespace bt::models;

namespace {
int64_t count(const std::string& arch, Stem stem) {
  Rng rng(0);
  return ResNet({.arch = arch, .stem = stem}, rng).parameter_count();
}
}  // namespace

TEST_CASE("parameter counts equal torchvision's backbones without fc") {
  // torchvision resnet18: 11,689,512 parameters, fc 512·1000 + 1000 = 513,000.
  REQUIRE(count("resnet18", Stem::imagenet) == 11'176'512);
  // The CIFAR stem swaps the 7×7 conv1 (9,408) for a 3×3 one (1,728).
  REQUIRE(count("resnet18", Stem::cifar) == 11'168'832);
  // torchvision resnet50: 25,557,032, fc 2048·1000 + 1000 = 2,049,000.
  REQUIRE(count("resnet50", Stem::imagenet) == 23'508'032);
}

TEST_CASE("state_dict names follow torchvision") {
  Rng rng(0);
  ResNet net({.arch = "resnet18", .stem = Stem::imagenet}, rng);
  auto sd = net.state_dict();
  REQUIRE(sd.count("conv1.weight"));
  REQUIRE(sd.at("conv1.weight").shape() == Shape{64, 3, 7, 7});
  REQUIRE(sd.count("layer1.0.bn1.running_mean"));
  REQUIRE(sd.at("layer2.0.downsample.0.weight").shape() == Shape{128, 64, 1, 1});
  REQUIRE(sd.count("layer2.0.downsample.1.num_batches_tracked"));
  REQUIRE(sd.at("layer4.1.conv2.weight").shape() == Shape{512, 512, 3, 3});
  REQUIRE_FALSE(sd.count("layer1.0.downsample.0.weight"));  // same shape: identity shortcut
  // torchvision's resnet18 state_dict has 122 entries, fc.weight and fc.bias among them.
  REQUIRE(sd.size() == 120);

  ResNet r50({.arch = "resnet50", .stem = Stem::imagenet}, rng);
  auto sd50 = r50.state_dict();
  REQUIRE(sd50.at("layer1.0.conv3.weight").shape() == Shape{256, 64, 1, 1});
  REQUIRE(sd50.at("layer3.5.bn3.weight").shape() == Shape{1024});
  REQUIRE(sd50.size() == 320 - 2);  // torchvision resnet50: 320 entries with fc
}

TEST_CASE("forward gives pooled features; zero_init_residual makes blocks start as identity") {
  Rng rng(1);
  ResNet net({.arch = "resnet18", .stem = Stem::cifar, .width = 8, .zero_init_residual = true}, rng);
  REQUIRE(net.feature_dim() == 64);
  for (auto& [name, p] : net.named_parameters())
    if (name.find(".bn2.weight") != std::string::npos) REQUIRE(sum(p).item() == 0);
  Tensor x = randn({2, 3, 16, 16}, rng);
  Tensor f = net.forward(x);
  REQUIRE(f.shape() == Shape{2, 64});
  for (double v : f.to_vector()) REQUIRE(v >= 0);  // pooled after a ReLU
  net.eval();
  REQUIRE(net.forward(x).shape() == Shape{2, 64});
  ResNet in({.arch = "resnet50", .stem = Stem::imagenet, .width = 4}, rng);
  REQUIRE(in.feature_dim() == 128);  // (4 << 3) planes × expansion 4
  REQUIRE(in.forward(randn({2, 3, 32, 32}, rng)).shape() == Shape{2, 128});
}

TEST_CASE("MLP head layout") {
  Rng rng(2);
  auto mlp = make_mlp({.dims = {16, 32, 8}, .hidden_bias = false, .last_bias = true}, rng);
  auto names = mlp->state_dict();
  REQUIRE(names.count("0.weight"));
  REQUIRE_FALSE(names.count("0.bias"));
  REQUIRE(names.count("1.running_var"));
  REQUIRE(names.at("3.weight").shape() == Shape{8, 32});
  REQUIRE(names.count("3.bias"));
  REQUIRE(mlp->forward(randn({4, 16}, rng)).shape() == Shape{4, 8});
  REQUIRE_THROWS_WITH(ResNet({.arch = "resnet34"}, rng), Catch::Contains("resnet34"));
}
