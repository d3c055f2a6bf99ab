// bt_eval: kNN and linear-probe accuracy of a saved backbone on a labelled dataset.
//
//   bt_eval --weights backbone.safetensors --data DIR|synthetic|cifar10-bin:DIR
//           [--val-split 0.1 | --val-data DIR|synthetic|cifar10-bin:DIR] [--knn-k 200]
//           [--knn-t 0.1] [--probe-epochs 100] [--dump-features PREFIX] [--json FILE]
//           [--threads 2] [--batch 256] [--skip-bad]
//
// The weights file is export_backbone's (methods/checkpoint.h): torchvision names plus the
// metadata arch / width / stem, from which the ResNet is rebuilt; loading is strict. Features
// of the train and val images go through the eval view (CIFAR stem: 32 px, CIFAR-10 mean/std;
// ImageNet stem: resize 256/224, centre crop 224, ImageNet mean/std). "cifar10-bin:DIR" as
// --val-data means the CIFAR-10 test batch. Errors are one line on stderr, exit status 1.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/device.h"
#include "engine/process_env.h"
#include "engine/serialize/safetensors.h"
#include "tools/lib/dataset_spec.h"
#include "tools/lib/features.h"
#include "tools/lib/finite_flags.h"
#include "tools/lib/knn.h"
#include "tools/lib/linear_probe.h"
#include "tools/lib/npy.h"

using namespace bt;

namespace {

struct Args {
  std::string weights, data = "synthetic", val_data, dump_prefix, json_path;
  double val_split = 0.1;
  int64_t synthetic_size = 5000;
  int64_t knn_k = 200;
  double knn_t = 0.1;
  tools::ProbeOptions probe;
  int threads = 2;
  int64_t batch = 256;
  int image_size = 0;  // 0: from the stem
  uint64_t seed = 0;
  bool skip_bad = false;  // skip undecodable images (counted) instead of failing
  std::string device = "cpu";  // where the backbone extracts features
};

// ---- the backbone ---------------------------------------------------------------------------

std::string metadata(const StringMap& meta, const std::string& key, const std::string& path) {
  const auto it = meta.find(key);
  BT_CHECK(it != meta.end(), path, ": no '", key,
           "' in the safetensors metadata (expected a backbone exported by bt_train)");
  return it->second;
}

models::ResNetConfig config_from_metadata(const StringMap& meta, const std::string& path) {
  models::ResNetConfig c;
  c.arch = metadata(meta, "arch", path);
  BT_CHECK(c.arch == "resnet18" || c.arch == "resnet50", path, ": unsupported arch '", c.arch,
           "' (resnet18 or resnet50)");
  const std::string width = metadata(meta, "width", path);
  size_t used = 0;
  try {
    c.width = std::stoll(width, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  BT_CHECK(used == width.size() && c.width > 0, path, ": invalid width '", width, "' in the metadata");
  const std::string stem = metadata(meta, "stem", path);
  BT_CHECK(stem == "cifar" || stem == "imagenet", path, ": invalid stem '", stem, "' (cifar or imagenet)");
  c.stem = stem == "cifar" ? models::Stem::cifar : models::Stem::imagenet;
  return c;
}

std::unique_ptr<models::ResNet> load_backbone(const std::string& path) {
  const SafetensorsContents file = load_safetensors(path);
  Rng rng(0);
  auto net = std::make_unique<models::ResNet>(config_from_metadata(file.metadata, path), rng);
  // Tensors that do not fit the metadata: report the first mismatch and a count, not all.
  std::string first;
  int64_t mismatched = 0;
  for (const auto& [name, t] : net->state_dict()) {
    const auto it = file.tensors.find(name);
    if (it == file.tensors.end() || it->second.shape() == t.shape()) continue;
    if (mismatched++ == 0)
      first = "'" + name + "' has shape " + shape_str(it->second.shape()) + " but the metadata's " +
              net->config().arch + " of width " + std::to_string(net->config().width) + " needs " + shape_str(t.shape());
  }
  BT_CHECK(mismatched == 0, path, ": ", first, mismatched > 1 ? " (and " + std::to_string(mismatched - 1) + " more)" : "");
  nn::StateDict state(file.tensors.begin(), file.tensors.end());
  try {
    net->load_state_dict(state, /*strict=*/true);
  } catch (const Error& e) {
    detail::fail(path, ": ", e.what());
  }
  return net;
}

// ---- the data -------------------------------------------------------------------------------

struct Splits {
  std::shared_ptr<const data::Dataset> train, val;
};

Splits open_splits(const Args& a, int image_size) {
  BT_CHECK(!a.val_data.empty() || (a.val_split > 0 && a.val_split < 1),
           "--val-split: must be in (0, 1) without --val-data, got ", a.val_split);
  const tools::OpenedData d = tools::open_data({.data = a.data, .val_data = a.val_data, .val_split = a.val_split,
                                                .synthetic_size = a.synthetic_size, .image_size = image_size,
                                                .skip_bad = a.skip_bad, .seed = a.seed});
  if (d.skipped > 0) std::printf("skipped %ld undecodable images (--skip-bad)\n", long(d.skipped));
  BT_CHECK(d.train->size() > 0 && d.val->size() > 0, "--data ", a.data, ": the train/val split has ",
           d.train->size(), " and ", d.val->size(), " images (both must be non-empty)");
  return {d.train, d.val};
}

data::EvalTransform eval_transform(const models::ResNetConfig& c, int image_size) {
  if (c.stem == models::Stem::cifar)
    return {.size = image_size > 0 ? image_size : 32, .resize_ratio = 1.0f, .mean = data::kCifar10Mean,
            .std = data::kCifar10Std};
  return {.size = image_size > 0 ? image_size : 224, .resize_ratio = 256.0f / 224.0f,
          .mean = data::kImageNetMean, .std = data::kImageNetStd};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json top5_json(double top5) { return top5 < 0 ? nlohmann::json(nullptr) : nlohmann::json(top5); }

int run(const Args& a) {
  omp_set_num_threads(a.threads);
  tools::ProbeOptions probe = a.probe;
  probe.seed = a.seed;
  const Device device = parse_device(a.device);
  try {
    require_device(device);
  } catch (const Error& e) {
    throw Error("--device " + a.device + ": " + e.what());
  }
  auto net = load_backbone(a.weights);
  net->to(device);
  const models::ResNetConfig& cfg = net->config();
  const data::EvalTransform transform = eval_transform(cfg, a.image_size);
  std::printf("backbone: %s, width %ld, %s stem, %ld-d features (%s)\n", cfg.arch.c_str(), long(cfg.width),
              cfg.stem == models::Stem::cifar ? "cifar" : "imagenet", long(net->feature_dim()), a.weights.c_str());

  const Splits s = open_splits(a, transform.size);
  const int64_t classes = s.train->num_classes();
  std::printf("data: %ld train / %ld val images, %ld classes, eval view %d px\n", long(s.train->size()),
              long(s.val->size()), long(classes), transform.size);

  auto t0 = std::chrono::steady_clock::now();
  const tools::Features train = tools::extract_features(*net, *s.train, transform, a.batch, a.threads);
  const tools::Features val = tools::extract_features(*net, *s.val, transform, a.batch, a.threads);
  const double feature_s = seconds_since(t0);
  std::printf("features: %.1f s (%.0f img/s)\n", feature_s,
              double(s.train->size() + s.val->size()) / std::max(feature_s, 1e-9));
  if (!a.dump_prefix.empty()) {
    tools::save_npy(a.dump_prefix + "_train_features.npy", train.feats);
    tools::save_npy(a.dump_prefix + "_train_labels.npy", train.labels);
    tools::save_npy(a.dump_prefix + "_val_features.npy", val.feats);
    tools::save_npy(a.dump_prefix + "_val_labels.npy", val.labels);
    std::printf("features written to %s_{train,val}_{features,labels}.npy\n", a.dump_prefix.c_str());
  }

  const tools::KnnResult knn =
      tools::knn_classify(train.feats, train.labels, val.feats, val.labels, classes, {.k = a.knn_k, .temperature = a.knn_t});
  std::printf("kNN (k=%ld, T=%g): top-1 %.2f %%", long(knn.k), a.knn_t, 100 * knn.top1);
  if (knn.top5 >= 0) std::printf(", top-5 %.2f %%", 100 * knn.top5);
  std::printf("\n");

  nlohmann::json out = {
      {"weights", a.weights}, {"arch", cfg.arch}, {"width", cfg.width},
      {"stem", cfg.stem == models::Stem::cifar ? "cifar" : "imagenet"}, {"feature_dim", net->feature_dim()},
      {"data", a.data}, {"val_data", a.val_data.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.val_data)},
      {"train_size", s.train->size()}, {"val_size", s.val->size()}, {"num_classes", classes},
      {"knn", {{"k", knn.k}, {"temperature", a.knn_t}, {"top1", knn.top1}, {"top5", top5_json(knn.top5)}}},
      {"linear_probe", nullptr}};

  if (a.probe.epochs > 0) {
    t0 = std::chrono::steady_clock::now();
    const tools::ProbeResult p = tools::linear_probe(train, val, classes, probe);
    std::printf("linear probe (%ld epochs, %s, lr %g, wd %g): train %.2f %%, val %.2f %% (%.1f s)\n",
                long(a.probe.epochs), a.probe.optimizer.c_str(), a.probe.lr, a.probe.weight_decay,
                100 * p.train_top1, 100 * p.test_top1, seconds_since(t0));
    out["linear_probe"] = {{"epochs", a.probe.epochs}, {"batch", a.probe.batch}, {"optimizer", a.probe.optimizer},
                           {"lr", a.probe.lr}, {"weight_decay", a.probe.weight_decay},
                           {"train_top1", p.train_top1}, {"val_top1", p.test_top1}, {"final_loss", p.final_loss}};
  }
  if (!a.json_path.empty()) tools::write_file_atomic(a.json_path, out.dump(2) + "\n");
  return 0;
}

// A numeric flag check with a short message (CLI11's own ranges print DBL_MAX in full).
CLI::Validator numeric_check(const char* what, bool (*ok)(double)) {
  return CLI::Validator(
      [what, ok](std::string& s) -> std::string {
        double v = 0;
        size_t used = 0;
        try {
          v = std::stod(s, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        return used == s.size() && ok(v) ? std::string() : "must be " + std::string(what) + ", got " + s;
      },
      what);
}

}  // namespace

int main(int argc, char** argv) {
  prepare_process(argv);
  Args a;
  const CLI::Validator positive = numeric_check("positive", [](double v) { return v > 0; });
  const CLI::Validator non_negative = numeric_check("non-negative", [](double v) { return v >= 0; });
  const CLI::Validator fraction = numeric_check("in [0, 1)", [](double v) { return v >= 0 && v < 1; });
  CLI::App app{"kNN and linear-probe accuracy of a saved backbone on a labelled dataset"};
  app.add_option("--weights", a.weights, "backbone safetensors (bt_train's export)")->required()->check(CLI::ExistingFile);
  app.add_option("--data", a.data, "DIR (image folder), synthetic, or cifar10-bin:DIR")->capture_default_str();
  auto* split = app.add_option("--val-split", a.val_split, "fraction of --data held out as val (stratified)")
                    ->check(fraction)->capture_default_str();
  app.add_option("--val-data", a.val_data, "separate labelled val set (cifar10-bin:DIR: the test batch)")->excludes(split);
  app.add_option("--synthetic-size", a.synthetic_size, "images of the synthetic set")->check(positive)->capture_default_str();
  app.add_option("--knn-k", a.knn_k, "neighbours of the kNN monitor")->check(positive)->capture_default_str();
  app.add_option("--knn-t", a.knn_t, "temperature of the kNN votes exp(sim/T)")->check(positive)->capture_default_str();
  app.add_option("--probe-epochs", a.probe.epochs, "linear probe epochs (0: no probe)")->check(non_negative)->capture_default_str();
  app.add_option("--probe-batch", a.probe.batch, "linear probe batch size")->check(positive)->capture_default_str();
  app.add_option("--probe-optimizer", a.probe.optimizer, "sgd or adamw")->check(CLI::IsMember({"sgd", "adamw"}))->capture_default_str();
  app.add_option("--probe-lr", a.probe.lr, "linear probe peak learning rate (cosine decay)")->check(positive)->capture_default_str();
  app.add_option("--probe-wd", a.probe.weight_decay, "linear probe weight decay")->check(non_negative)->capture_default_str();
  app.add_option("--dump-features", a.dump_prefix, "write PREFIX_{train,val}_{features,labels}.npy");
  app.add_option("--json", a.json_path, "also write the results as JSON to this file");
  app.add_option("--threads", a.threads, "CPU threads (decoding and compute)")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--batch", a.batch, "images per forward pass")->check(positive)->capture_default_str();
  app.add_option("--image-size", a.image_size, "eval view side in pixels (default: 32 for the CIFAR stem, 224 else)")
      ->check(CLI::Range(8, 1024));
  app.add_option("--seed", a.seed, "seed of the val split, synthetic data and probe")->capture_default_str();
  app.add_flag("--skip-bad", a.skip_bad, "skip undecodable images (counted) instead of failing");
  app.add_option("--device", a.device, "where the backbone extracts features: cpu, cuda or simt")
      ->check(CLI::IsMember({"cpu", "cuda", "simt"}))->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::fprintf(stderr, "bt_eval: %s\n", e.what());
    return 1;
  }
  try {
    tools::reject_non_finite_flags(app);
    return run(a);
  } catch (const Error& e) {
    std::fprintf(stderr, "bt_eval: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bt_eval: unexpected error: %s\n", e.what());
  }
  return 1;
}
