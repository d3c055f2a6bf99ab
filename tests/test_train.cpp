// bt_train's run loop end to end on tiny synthetic data: resume reproduces the uninterrupted
// run's losses, bad input fails with a message naming the file or flag.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/serialize/safetensors.h"
#include "tests/support/temp_dir.h"
#include "tools/lib/trainer.h"

using namespace bt;
using namespace bt::tools;
namespace fs = std::filesystem;

namespace {

// A fresh folder per test under one root that is removed when the test program exits.
fs::path fresh_dir(const std::string& name) {
  static const bt::testing::TempDir root;
  fs::path d = root.path / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TrainConfig tiny(const std::string& method, const fs::path& out) {
  TrainConfig c;
  c.model.method = method;
  c.model.backbone = {.arch = "resnet18", .stem = models::Stem::cifar, .width = 4};
  c.model.proj_hidden = 32;
  c.model.proj_out = 16;
  c.model.pred_hidden = 8;
  c.synthetic_size = 96;
  c.image_size = 16;
  c.batch = 16;
  c.epochs = 3;
  c.max_steps_per_epoch = 2;
  c.val_split = 0.25;
  c.knn_k = 5;
  c.threads = 2;
  c.log_every = 1;
  c.out = out.string();
  return c;
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The tensor of trainable parameter `name`'s gradient (CPU), found by its module name.
Tensor grad_of(const methods::Method& method, const std::string& name) {
  for (auto& [n, p] : method.trainable_parameters())
    if (n == name) return p.grad();
  FAIL("no trainable parameter " << name);
  return {};
}

}  // namespace

TEST_CASE("a non-finite gradient stops the run naming the step, epoch and first such parameter") {
  const fs::path out = fresh_dir("nan_grad");
  const fs::path ckpt = out / "checkpoint.safetensors";
  TrainConfig c = tiny("barlow", out);  // 2 steps per epoch: step 4 is epoch 2's last
  std::string epoch1_checkpoint;
  TrainHooks hooks;
  hooks.after_backward = [&](int64_t step, methods::Method& method) {
    if (step == 3) epoch1_checkpoint = file_bytes(ckpt);  // written at the end of epoch 1
    if (step != 4) return;
    // One value each in two parameters' gradients: the one registered first must be named.
    grad_of(method, "backbone.layer2.0.conv1.weight").data<float>()[7] = INFINITY;
    grad_of(method, "backbone.layer1.0.conv2.weight").data<float>()[0] = NAN;
  };
  REQUIRE_THROWS_WITH(train(c, nullptr, hooks),
                      Catch::Contains("non-finite gradient of backbone.layer1.0.conv2.weight at step 4 (epoch 2)") &&
                          Catch::Contains("last good checkpoint " + ckpt.string() + " is kept"));
  REQUIRE_FALSE(epoch1_checkpoint.empty());
  REQUIRE(file_bytes(ckpt) == epoch1_checkpoint);  // nothing saved after the bad step
  REQUIRE(load_safetensors(ckpt.string()).metadata.at("epoch") == "1");
  REQUIRE_FALSE(fs::exists(out / "backbone.safetensors"));

  // A single +inf in the last parameter's gradient, in epoch 1: nothing was saved at all.
  const fs::path out1 = fresh_dir("inf_grad");
  std::string last;
  hooks.after_backward = [&](int64_t step, methods::Method& method) {
    const auto params = method.trainable_parameters();
    last = params.back().first;
    if (step == 2) params.back().second.grad().data<float>()[params.back().second.numel() - 1] = INFINITY;
  };
  REQUIRE_THROWS_WITH(train(tiny("simclr", out1), nullptr, hooks),
                      Catch::Contains("non-finite gradient of " + last + " at step 2 (epoch 1)") &&
                          Catch::Contains("no checkpoint was written"));
  REQUIRE_FALSE(fs::exists(out1 / "checkpoint.safetensors"));
}

TEST_CASE("a run stopped after epoch 2 and resumed gives the uninterrupted run's losses") {
  for (const char* method : {"byol", "simclr"}) {
    const TrainResult whole = train(tiny(method, fresh_dir(std::string("whole_") + method)));
    REQUIRE(whole.step_losses.size() == 6);

    TrainConfig c = tiny(method, fresh_dir(std::string("parts_") + method));
    c.stop_after = 2;
    const TrainResult first = train(c);
    REQUIRE(first.step_losses.size() == 4);
    c.stop_after = 0;
    c.resume = true;
    const TrainResult rest = train(c);
    REQUIRE(rest.step_losses.size() == 2);
    for (size_t i = 0; i < 4; ++i) REQUIRE(first.step_losses[i] == whole.step_losses[i]);
    for (size_t i = 0; i < 2; ++i) REQUIRE(rest.step_losses[i] == whole.step_losses[4 + i]);
    REQUIRE(rest.epochs.back().knn_top1 == whole.epochs.back().knn_top1);
  }
}

TEST_CASE("each method's default augmentation is its own repository's; --views overrides it") {
  const auto views_of = [](const std::string& method, const std::optional<std::string>& given) {
    TrainConfig c;
    c.model.method = method;
    c.views = given;
    c.apply_method_defaults();
    return *c.views;
  };
  CHECK(views_of("barlow", std::nullopt) == "asymmetric");
  CHECK(views_of("byol", std::nullopt) == "asymmetric");
  CHECK(views_of("simclr", std::nullopt) == "symmetric");
  CHECK(views_of("simsiam", std::nullopt) == "simsiam");
  CHECK(views_of("simsiam", "symmetric") == "symmetric");
}

TEST_CASE("the learning rate peaks at --lr x batch/256 after warmup and decays by the cosine") {
  const fs::path out = fresh_dir("lr");
  TrainConfig c = tiny("simsiam", out);
  c.optimizer = "sgd";
  c.lr = 0.4;
  c.warmup_epochs = 1;  // steps 0 and 1 of 6
  train(c);

  std::vector<double> logged;
  std::ifstream log(out / "log.jsonl");
  for (std::string line; std::getline(log, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.contains("step")) logged.push_back(j["lr"].get<double>());
  }
  REQUIRE(logged.size() == 6);
  // Hand-derived: peak 0.4·16/256 = 0.025; linear warmup over 2 steps, then ½(1 + cos(πk/4)).
  const double pi = std::acos(-1.0);
  const double expected[6] = {0.0, 0.0125, 0.025, 0.0125 * (1 + std::cos(pi / 4)), 0.0125,
                              0.0125 * (1 + std::cos(3 * pi / 4))};
  for (size_t k = 0; k < 6; ++k) REQUIRE(logged[k] == Approx(expected[k]).margin(1e-12));
}

TEST_CASE("a run writes its log, checkpoint, backbone and plots") {
  const fs::path out = fresh_dir("outputs");
  TrainConfig c = tiny("barlow", out);
  c.epochs = 2;
  const TrainResult r = train(c);
  REQUIRE(r.epochs.size() == 3);  // random init + 2 epochs
  REQUIRE(r.epochs[0].epoch == 0);
  REQUIRE(std::isfinite(r.epochs[0].knn_top1));
  REQUIRE(std::isfinite(r.epochs[2].effective_rank));
  for (const char* f : {"log.jsonl", "checkpoint.safetensors", "backbone.safetensors", "loss.png", "knn.png",
                        "cross_correlation.png"})
    REQUIRE(fs::exists(out / f));
  for (auto& e : fs::directory_iterator(out)) REQUIRE(e.path().extension() != ".tmp");  // nothing half-written
}

TEST_CASE("bad input is reported naming the file or flag") {
  const fs::path root = fresh_dir("bad");
  TrainConfig c = tiny("barlow", root / "out");

  c.data = (root / "missing").string();
  REQUIRE_THROWS_WITH(train(c), Catch::Contains("missing"));

  fs::create_directories(root / "empty");
  c.data = (root / "empty").string();
  REQUIRE_THROWS_WITH(train(c), Catch::Contains("empty"));

  fs::create_directories(root / "bad_images" / "cat");
  std::ofstream(root / "bad_images" / "cat" / "notes.jpg") << "this is not a jpeg";
  c.data = (root / "bad_images").string();
  REQUIRE_THROWS_WITH(train(c), Catch::Contains("notes.jpg"));

  c = tiny("barlow", root / "out2");
  c.resume = true;
  REQUIRE_THROWS_WITH(train(c), Catch::Contains("--resume") && Catch::Contains("checkpoint"));

  c = tiny("barlow", root / "out3");
  c.batch = 1000;
  REQUIRE_THROWS_WITH(train(c), Catch::Contains("--batch"));

  c = tiny("barlow", root / "out4");
  c.optimizer = "adam";
  REQUIRE_THROWS_WITH(train(c), Catch::Contains("--optimizer"));
}

TEST_CASE("resuming with another method or arch is refused") {
  const fs::path out = fresh_dir("mismatch");
  TrainConfig c = tiny("barlow", out);
  c.epochs = 1;
  train(c);
  TrainConfig other = tiny("simclr", out);
  other.resume = true;
  REQUIRE_THROWS_WITH(train(other), Catch::Contains("checkpoint.safetensors") && Catch::Contains("'barlow'"));
  TrainConfig wider = tiny("barlow", out);
  wider.model.backbone.width = 8;
  wider.resume = true;
  REQUIRE_THROWS_WITH(train(wider), Catch::Contains("width"));
}

TEST_CASE("the config's JSON record survives a path that is not UTF-8 (fuzz/regressions/fuzz_cli)") {
  TrainConfig c;
  c.data = "cifar10-bin:/data/caf\xe9";  // Latin-1 é
  c.apply_method_defaults();             // the record is written after the recipe is filled in
  const auto j = nlohmann::json::parse(c.to_json());
  REQUIRE(j["data"].get<std::string>() == "cifar10-bin:/data/caf\xef\xbf\xbd");  // U+FFFD in UTF-8
  REQUIRE(j["method"].get<std::string>() == "barlow");
}
