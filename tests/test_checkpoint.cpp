// Whole-method checkpoints (weights, optimizer state, step, RNG) and the backbone export.
#include <catch2/catch.hpp>

#include <filesystem>

#include "engine/ops.h"
#include "engine/optim/param_groups.h"
#include "engine/optim/sgd.h"
#include "engine/serialize/safetensors.h"
#include "methods/checkpoint.h"
#include "tests/support/temp_dir.h"

using namespace bt;
using namespace bt::methods;
namespace fs = std::filesystem;

namespace {

MethodConfig tiny(const std::string& method, int64_t width = 8) {
  MethodConfig c;
  c.method = method;
  c.backbone = {.arch = "resnet18", .stem = models::Stem::cifar, .width = width};
  c.proj_hidden = 32;
  c.proj_out = 16;
  c.pred_hidden = 8;
  return c;
}

struct Run {
  std::unique_ptr<Method> method;
  std::unique_ptr<optim::SGD> opt;
  explicit Run(const MethodConfig& c, uint64_t seed = 1) {
    Rng rng(seed);
    method = make_method(c, rng);
    opt = std::make_unique<optim::SGD>(optim::decay_groups(method->trainable_parameters(), 1e-4));
    opt->set_lr(0.05);
  }
  double step(const Tensor& v1, const Tensor& v2, int64_t k) {
    opt->zero_grad();
    Tensor loss = method->loss(v1, v2);
    loss.backward();
    opt->step();
    method->after_step(k, 10);
    return loss.item();
  }
};

// The test program's scratch folder, removed when it exits.
const fs::path& temp_dir() {
  static const bt::testing::TempDir dir;
  return dir.path;
}

}  // namespace

TEST_CASE("a resumed run continues exactly like the uninterrupted one") {
  for (const char* name : {"byol", "barlow"}) {
    Rng data(3);
    Tensor v1 = randn({8, 3, 8, 8}, data), v2 = randn({8, 3, 8, 8}, data);
    Run a(tiny(name));
    a.step(v1, v2, 1);
    a.step(v1, v2, 2);
    const fs::path file = temp_dir() / "run.safetensors";
    save_checkpoint(file, *a.method, *a.opt, {.step = 2, .epoch = 1, .rng = {1, 2, 3, 4}, .config_json = "{}"});
    const double expected = a.step(v1, v2, 3);

    Run b(tiny(name), /*seed=*/99);  // different init: everything must come from the file
    TrainingState st = load_checkpoint(file, *b.method, *b.opt);
    REQUIRE(st.step == 2);
    REQUIRE(st.epoch == 1);
    REQUIRE(st.rng == std::array<uint64_t, 4>{1, 2, 3, 4});
    REQUIRE(b.step(v1, v2, 3) == expected);
    auto pa = a.method->parameters(), pb = b.method->parameters();
    for (size_t i = 0; i < pa.size(); ++i) REQUIRE(pa[i].to_vector() == pb[i].to_vector());
  }
}

TEST_CASE("a checkpoint of another method or width is refused, naming the file") {
  Run a(tiny("barlow"));
  const fs::path file = temp_dir() / "barlow.safetensors";
  save_checkpoint(file, *a.method, *a.opt, {});
  Run other(tiny("simclr"));
  REQUIRE_THROWS_WITH(load_checkpoint(file, *other.method, *other.opt),
                      Catch::Contains(file.string()) && Catch::Contains("'barlow'") && Catch::Contains("'simclr'"));
  Run wider(tiny("barlow", 16));
  REQUIRE_THROWS_WITH(load_checkpoint(file, *wider.method, *wider.opt), Catch::Contains("width"));
}

TEST_CASE("the exported backbone has torchvision's names and shapes") {
  Run a(tiny("byol", 64));
  const fs::path file = temp_dir() / "backbone.safetensors";
  export_backbone(file, *a.method);
  SafetensorsContents c = load_safetensors(file);
  REQUIRE(c.tensors.size() == 120);  // torchvision resnet18's 122 entries minus fc.weight, fc.bias
  REQUIRE(c.tensors.at("conv1.weight").shape() == Shape{64, 3, 3, 3});  // CIFAR stem
  REQUIRE(c.tensors.at("layer4.1.bn2.running_var").shape() == Shape{512});
  REQUIRE(c.tensors.count("fc.weight") == 0);
  for (auto& [name, t] : c.tensors) {
    REQUIRE(name.rfind("target_", 0) != 0);
    REQUIRE(name.rfind("backbone.", 0) != 0);
  }
  REQUIRE(c.metadata.at("arch") == "resnet18");
}
