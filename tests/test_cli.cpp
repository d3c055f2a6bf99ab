// The programs' command lines: a bad flag value or input gives a one-line error naming it on
// stderr and a non-zero exit, never a crash.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/device.h"
#include "engine/error.h"
#include "engine/precision.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using bt::testing::Outcome;
using bt::testing::require_clean_failure;
using bt::testing::run;

TEST_CASE("bt_train rejects invalid flag values naming the flag") {
  const std::string exe = BT_TRAIN_EXE;
  require_clean_failure(run(exe + " --epochs -3"), "--epochs");
  require_clean_failure(run(exe + " --method mocov9"), "--method");
  require_clean_failure(run(exe + " --lambda banana"), "--lambda");
  require_clean_failure(run(exe + " --val-split 1.5"), "--val-split");
  require_clean_failure(run(exe + " --precision fp16"), "--precision");
}

TEST_CASE("non-finite numeric flags are rejected naming the flag") {
  bt::testing::TempDir dir;
  const std::string weights = dir / "backbone.safetensors";
  std::ofstream(weights) << "not read: flags are checked first";
  const std::string train = std::string(BT_TRAIN_EXE) + " --out " + dir / "out";
  for (const char* flag : {"--lr nan", "--lr inf", "--lr -inf", "--wd nan", "--wd inf", "--temperature nan",
                           "--temperature inf", "--lambda nan", "--lambda inf", "--momentum nan",
                           "--lars-eta 1e999", "--bias-lr-scale nan", "--tau-base nan", "--knn-t inf",
                           "--warmup-epochs nan", "--val-split nan"}) {
    const std::string name = std::string(flag).substr(0, std::string(flag).find(' '));
    require_clean_failure(run(train + " " + flag), name);
  }
  CHECK_FALSE(fs::exists(dir / "out"));
  const std::string eval = std::string(BT_EVAL_EXE) + " --weights " + weights;
  for (const char* flag : {"--knn-t inf", "--knn-t nan", "--probe-lr inf", "--probe-wd nan", "--probe-wd inf",
                           "--val-split nan"}) {
    const std::string name = std::string(flag).substr(0, std::string(flag).find(' '));
    require_clean_failure(run(eval + " " + flag), name);
  }
  require_clean_failure(run(std::string(STEP_BENCH_EXE) + " --head-scale nan"), "--head-scale");
  require_clean_failure(run(std::string(STEP_BENCH_EXE) + " --head-scale inf"), "--head-scale");
}

TEST_CASE("bt_train reports a missing data folder naming it") {
  const bt::testing::TempDir dir;
  const fs::path out = dir.path / "out";
  const Outcome o = run(std::string(BT_TRAIN_EXE) + " --data /nonexistent/images --out " + out.string());
  require_clean_failure(o, "/nonexistent/images");
  REQUIRE(o.output.find("error") != std::string::npos);
}

TEST_CASE("bt_eval reports a missing weights file naming it") {
  const Outcome o = run(std::string(BT_EVAL_EXE) + " --weights /nonexistent/backbone.safetensors");
  require_clean_failure(o, "/nonexistent/backbone.safetensors");
}

namespace {
bool gpu_present() {
  try {
    bt::require_device(bt::Device::cuda);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// One step of one epoch on 64 synthetic images: enough to exercise a whole run on a device.
const std::string kTinyRun =
    " --synthetic-size 64 --batch 16 --width 8 --head-scale 0.125 --epochs 1 --max-steps-per-epoch 1";
}  // namespace

TEST_CASE("bt_train --device cuda without a GPU: 'no CUDA device', non-zero, nothing written") {
  bt::testing::TempDir dir;
  const std::string out = dir / "run";
  const Outcome o = run(std::string(BT_TRAIN_EXE) + " --device cuda" + kTinyRun + " --out " + out);
  if (gpu_present()) {  // the run must have completed on the GPU
    INFO(o.output);
    CHECK(o.exit_code == 0);
    CHECK(fs::exists(fs::path(out) / "backbone.safetensors"));
    return;
  }
  require_clean_failure(o, "--device cuda: no CUDA device");
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("bt_eval --device cuda without a GPU: 'no CUDA device', non-zero") {
  bt::testing::TempDir dir;
  if (gpu_present()) {  // evaluate a backbone trained on the GPU, on the GPU
    const std::string out = dir / "run";
    const Outcome trained = run(std::string(BT_TRAIN_EXE) + " --device cuda" + kTinyRun + " --out " + out);
    INFO(trained.output);
    REQUIRE(trained.exit_code == 0);
    const Outcome o = run(std::string(BT_EVAL_EXE) + " --device cuda --synthetic-size 64 --probe-epochs 1 --weights " +
                          (fs::path(out) / "backbone.safetensors").string());
    INFO(o.output);
    CHECK(o.exit_code == 0);
    CHECK_THAT(o.output, Catch::Contains("kNN"));
    return;
  }
  const std::string weights = dir / "backbone.safetensors";
  std::ofstream(weights) << "not read: the device is checked first";
  const Outcome o = run(std::string(BT_EVAL_EXE) + " --device cuda --weights " + weights);
  require_clean_failure(o, "--device cuda: no CUDA device");
}

// oneDNN reads ONEDNN_MAX_CPU_ISA once: capped below AVX512_BF16, the process sees a CPU without
// bf16 dot products, as a machine without them is.
TEST_CASE("bt_train --precision bf16: trains where the CPU has AVX512_BF16, else one line and nothing written") {
  bt::testing::TempDir dir;
  const std::string out = dir / "run", refused = dir / "refused";
  const Outcome capped = run("ONEDNN_MAX_CPU_ISA=AVX512_CORE " + std::string(BT_TRAIN_EXE) + " --precision bf16" +
                             kTinyRun + " --out " + refused);
  require_clean_failure(capped, "--precision bf16 needs a CPU with AVX512_BF16");
  CHECK_FALSE(fs::exists(refused));

  bool supported = true;
  try {
    bt::check_precision_supported(bt::Precision::bf16);
  } catch (const bt::Error&) {
    supported = false;
  }
  const Outcome o = run(std::string(BT_TRAIN_EXE) + " --precision bf16" + kTinyRun + " --out " + out);
  if (!supported) {
    require_clean_failure(o, "--precision bf16 needs a CPU with AVX512_BF16");
    return;
  }
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  CHECK_THAT(o.output, Catch::Contains("precision bf16"));
  std::ifstream log(fs::path(out) / "log.jsonl");
  std::string config;
  std::getline(log, config);
  CHECK_THAT(config, Catch::Contains("\"precision\":\"bf16\""));
  CHECK(fs::exists(fs::path(out) / "backbone.safetensors"));
}

TEST_CASE("bt_train's synthetic demo trains at the method's recipe and prints it at start") {
  bt::testing::TempDir dir;
  const auto run_demo = [&](const std::string& flags, const std::string& name) {
    const std::string out = dir / name;
    const Outcome o = run(std::string(BT_TRAIN_EXE) + kTinyRun + flags + " --out " + out);
    INFO(o.output);
    REQUIRE(o.exit_code == 0);
    std::ifstream log(fs::path(out) / "log.jsonl");
    std::string config;
    std::getline(log, config);
    const size_t at = config.find("\"lr\":");
    REQUIRE(at != std::string::npos);
    return std::make_pair(std::stod(config.substr(at + 5)), o.output);
  };
  // The CIFAR recipes' base lrs at batch 256 (docs/design.md §5): Barlow Twins LARS 0.3,
  // SimSiam SGD 0.5; a given --lr wins.
  const auto [barlow_lr, barlow_out] = run_demo("", "demo");
  CHECK(barlow_lr == 0.3);
  CHECK_THAT(barlow_out, Catch::Contains("barlow: resnet18") && Catch::Contains("lars lr 0.3 x 16/256") &&
                             Catch::Contains("views asymmetric"));
  CHECK(run_demo(" --lr 0.7", "given").first == 0.7);
  const auto [simsiam_lr, simsiam_out] = run_demo(" --method simsiam", "sgd");
  CHECK(simsiam_lr == 0.5);
  CHECK_THAT(simsiam_out, Catch::Contains("sgd lr 0.5 x 16/256") && Catch::Contains("views simsiam"));
}

TEST_CASE("bt_train without validation images says the kNN monitor is off, never 'nan%'") {
  bt::testing::TempDir dir;
  const Outcome o = run(std::string(BT_TRAIN_EXE) + kTinyRun + " --val-split 0 --out " + (dir / "run"));
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  CHECK_THAT(o.output, Catch::Contains("kNN top-1 off (no validation images)"));
  CHECK_THAT(o.output, !Catch::Contains("nan"));
}

TEST_CASE("bt_train --device simt: a whole run with the CUDA kernels on the emulator") {
  bt::testing::TempDir dir;
  const std::string out = dir / "run";
  const Outcome o = run(std::string(BT_TRAIN_EXE) + " --device simt --method simclr" + kTinyRun + " --out " + out);
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  CHECK(fs::exists(fs::path(out) / "checkpoint.safetensors"));
  CHECK(fs::exists(fs::path(out) / "backbone.safetensors"));
  std::ifstream log(fs::path(out) / "log.jsonl");
  std::string line, last;
  while (std::getline(log, line)) last = line;
  CHECK(last.find("\"epoch\":1") != std::string::npos);  // the epoch-1 record, its loss finite (not null)
  CHECK(last.find("\"loss\":null") == std::string::npos);
}

TEST_CASE("bt_train --method vicreg: a tiny run at VICReg's recipe; --help lists every method") {
  bt::testing::TempDir dir;
  const Outcome o = run(std::string(BT_TRAIN_EXE) + " --method vicreg" + kTinyRun + " --out " + (dir / "run"));
  INFO(o.output);
  REQUIRE(o.exit_code == 0);
  CHECK_THAT(o.output, Catch::Contains("vicreg: resnet18") && Catch::Contains("lars lr 0.2 x 16/256, wd 1e-06"));
  CHECK(fs::exists(fs::path(dir / "run") / "backbone.safetensors"));
  CHECK_FALSE(fs::exists(fs::path(dir / "run") / "cross_correlation.png"));  // Barlow Twins' plot only
  const Outcome help = run(std::string(BT_TRAIN_EXE) + " --help");
  for (const char* name : {"barlow:", "byol:", "simsiam:", "simclr:", "vicreg:"}) CHECK_THAT(help.output, Catch::Contains(name));
  const Outcome bench = run(std::string(STEP_BENCH_EXE) + " --methods mocov9");
  require_clean_failure(bench, "--methods");
}
