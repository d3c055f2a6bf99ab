// step_bench: one full training step (forward of both views, loss, backward, LARS update) of
// each SSL method on a ResNet (CIFAR stem by default) on the CPU: ms/step, images/s and the
// process's peak RSS, as a table and as JSON. bench/torch_step.py times the same step in
// PyTorch for comparison. --precision bf16 times the step with bf16 convolutions and matrix
// products (engine/precision.h).
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/op_profile.h"
#include "engine/ops.h"
#include "engine/process_env.h"
#include "engine/optim/lars.h"
#include "engine/optim/param_groups.h"
#include "engine/layout.h"
#include "engine/precision.h"
#include "methods/registry.h"
#include "tools/lib/finite_flags.h"

using namespace bt;

namespace {

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

}  // namespace

namespace {

// Per op and timed step: forward and backward ms and the share of the median step
// (engine/op_profile.h says how the times are taken); then the optimizer's step.
void print_profile(double steps, double step_ms, double optimizer_s) {
  std::printf("  %-28s %6s %10s %10s %7s\n", "op", "calls", "fwd ms", "bwd ms", "% step");
  for (const op_profile::OpTime& t : op_profile::totals()) {
    const double fwd = 1000 * t.forward_s / steps, bwd = 1000 * t.backward_s / steps;
    if (fwd + bwd < 0.005 * step_ms) continue;  // under 0.5 %
    std::printf("  %-28s %6.0f %10.1f %10.1f %7.1f\n", t.op.c_str(), double(t.calls) / steps, fwd, bwd,
                100 * (fwd + bwd) / step_ms);
  }
  const double opt_ms = 1000 * optimizer_s / steps;
  std::printf("  %-28s %6s %10.1f %10s %7.1f\n", "optimizer step", "", opt_ms, "", 100 * opt_ms / step_ms);
  op_profile::clear();
}

}  // namespace

int main(int argc, char** argv) {
  prepare_process(argv);
  CLI::App app{"Times one SSL training step per method on the CPU"};
  std::vector<std::string> methods = methods::method_names();
  int64_t batch = 128, width = 64, image = 32, repeats = 3;
  double head_scale = 1.0;
  std::string json_path;
  app.add_option("--methods", methods, "methods to time")->check(CLI::IsMember(methods::method_names()));
  app.add_option("--batch", batch, "images per view")->check(CLI::PositiveNumber);
  app.add_option("--width", width, "ResNet-18 base width (64 = torchvision)")->check(CLI::PositiveNumber);
  app.add_option("--image", image, "image side in pixels")->check(CLI::Range(8, 512));
  app.add_option("--head-scale", head_scale, "scale of the default projector widths")->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats, "timed steps after one warm-up step")->check(CLI::PositiveNumber);
  app.add_option("--json", json_path, "also write the results as JSON to this file");
  std::string precision_flag = "f32";
  app.add_option("--precision", precision_flag, "f32, or bf16 convolutions and matrix products (AVX512_BF16)")
      ->check(CLI::IsMember({"f32", "bf16"}))->capture_default_str();
  std::string layout_flag = "nChw16c";
  app.add_option("--layout", layout_flag,
                 "activations between convolutions: nChw16c (oneDNN's blocked layout, kept from layer to layer) "
                 "or nchw (reordered around every convolution; engine/layout.h)")
      ->check(CLI::IsMember({"nChw16c", "nchw"}))->capture_default_str();
  bool profile = false;
  app.add_flag("--profile", profile, "also print each op's forward and backward time over the timed steps");
  CLI11_PARSE(app, argc, argv);
  Precision precision = Precision::f32;
  try {
    tools::reject_non_finite_flags(app);
    precision = parse_precision(precision_flag);
    check_precision_supported(precision);
  } catch (const Error& e) {
    std::fprintf(stderr, "step_bench: %s\n", e.what());
    return 1;
  }

  set_blocked_activations(layout_flag == "nChw16c");
  nlohmann::json results = nlohmann::json::array();
  std::printf("%-8s %6s %6s %10s %10s %12s\n", "method", "batch", "width", "ms/step", "img/s", "peak RSS MiB");
  for (const std::string& name : methods) {
    Rng rng(0);
    methods::MethodConfig config;
    config.method = name;
    config.backbone = {.arch = "resnet18", .stem = models::Stem::cifar, .width = width};
    config.head_scale = head_scale;
    auto method = methods::make_method(config, rng);
    optim::LARS opt(optim::decay_groups(method->trainable_parameters(), 1e-4), {.eta = 0.02, .clip_lr = true});
    opt.set_lr(0.3);
    Tensor v1 = randn({batch, 3, image, image}, rng), v2 = randn({batch, 3, image, image}, rng);
    std::vector<double> ms;
    double loss = 0;
    double optimizer_s = 0;
    for (int64_t r = 0; r <= repeats; ++r) {
      op_profile::set_enabled(profile && r > 0);
      const auto t0 = std::chrono::steady_clock::now();
      opt.zero_grad();
      Tensor l;
      {
        PrecisionScope scope(precision);
        l = method->loss(v1, v2);
      }
      l.backward();
      const auto t_opt = std::chrono::steady_clock::now();
      opt.step();
      if (r > 0) optimizer_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_opt).count();
      method->after_step(r + 1, repeats + 1);
      loss = l.item();
      const double dt = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (r > 0) ms.push_back(dt);  // step 0 warms the caches (allocator, oneDNN primitives)
    }
    op_profile::set_enabled(false);
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    const double images_per_s = 2.0 * double(batch) / (median / 1000.0);  // two views per sample
    std::printf("%-8s %6ld %6ld %10.1f %10.1f %12.0f\n", name.c_str(), long(batch), long(width), median,
                images_per_s, peak_rss_mib());
    if (profile) print_profile(double(repeats), median, optimizer_s);
    results.push_back({{"method", name}, {"batch", batch}, {"width", width}, {"image", image},
                       {"ms_per_step", median}, {"images_per_s", images_per_s},
                       {"peak_rss_mib", peak_rss_mib()}, {"loss", loss}, {"precision", precision_flag},
                       {"layout", layout_flag}});
  }
  if (!json_path.empty()) {
    std::ofstream(json_path) << results.dump(2) << "\n";
    std::cout << "wrote " << json_path << "\n";
  }
  return 0;
}
