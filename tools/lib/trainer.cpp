#include "tools/lib/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/loader.h"
#include "engine/autograd.h"
#include "engine/device.h"
#include "engine/optim/adamw.h"
#include "engine/optim/lars.h"
#include "engine/optim/param_groups.h"
#include "engine/optim/schedule.h"
#include "engine/optim/sgd.h"
#include "methods/barlow_twins.h"
#include "methods/checkpoint.h"
#include "methods/ssl_losses.h"
#include "tools/lib/dataset_spec.h"
#include "tools/lib/monitor.h"
#include "tools/lib/progress.h"
#include "tools/lib/run_plots.h"

namespace bt::tools {

namespace fs = std::filesystem;

namespace {

// The peak learning rate: --lr is given at batch 256 (the linear scaling rule, Goyal et al. 2017).
double scaled_lr(const TrainConfig& c) { return c.lr * double(c.batch) / 256.0; }

std::unique_ptr<optim::Optimizer> make_optimizer(const TrainConfig& c, methods::Method& method) {
  auto groups = optim::split_decay_groups(method.trainable_parameters(), scaled_lr(c), c.weight_decay,
                                          c.bias_lr_scale);
  if (c.optimizer == "lars")
    return std::make_unique<optim::LARS>(std::move(groups),
                                         optim::LarsOptions{.momentum = c.momentum, .eta = c.lars_eta, .clip_lr = true});
  if (c.optimizer == "sgd") return std::make_unique<optim::SGD>(std::move(groups), optim::SgdOptions{.momentum = c.momentum});
  if (c.optimizer == "adamw") return std::make_unique<optim::AdamW>(std::move(groups));
  throw Error("--optimizer: unknown optimizer '" + c.optimizer + "' (expected lars, sgd or adamw)");
}

// Appends JSON lines to the run's log; flushed per line so a crash loses nothing.
class JsonlLog {
 public:
  JsonlLog(const fs::path& path, bool append) : out_(path, append ? std::ios::app : std::ios::trunc) {
    BT_CHECK(out_.good(), "cannot write the log ", path.string());
  }
  void write(const nlohmann::json& j) { out_ << j.dump() << '\n' << std::flush; }

 private:
  std::ofstream out_;
};

nlohmann::json to_json(const EpochRecord& r) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"epoch", r.epoch}, {"loss", num(r.loss)}, {"knn_top1", num(r.knn_top1)},
          {"embedding_std", num(r.embedding_std)}, {"effective_rank", num(r.effective_rank)},
          {"seconds", r.seconds}, {"images_per_s", r.images_per_s}};
}

}  // namespace

TrainResult train(TrainConfig c) {
  c.apply_method_defaults();
  const Device device = parse_device(c.device);
  try {
    require_device(device);  // "no CUDA device" before anything is read or written
  } catch (const std::exception& e) {
    throw Error("--device " + c.device + ": " + e.what());
  }
  BT_CHECK(c.epochs > 0, "--epochs must be positive, got ", c.epochs);
  BT_CHECK(c.batch > 1, "--batch must be at least 2 (batch statistics), got ", c.batch);
  fs::create_directories(c.out);
  const fs::path out(c.out), ckpt = out / "checkpoint.safetensors";

  OpenedData data = open_data({.data = c.data, .val_data = c.val_data, .val_split = c.val_split,
                               .synthetic_size = c.synthetic_size, .image_size = c.image_size,
                               .skip_bad = c.skip_bad, .seed = c.seed});
  if (data.skipped > 0) std::fprintf(stderr, "skipped %ld undecodable images (--skip-bad)\n", long(data.skipped));
  BT_CHECK(data.train->size() >= c.batch, "--batch ", c.batch, " is larger than the training set (",
           data.train->size(), " images)");
  const data::ViewPair views = data::views_named(c.views, c.image_size, data.cifar_like, "--views");
  const data::EvalTransform eval_transform{.size = c.image_size, .mean = views.first.mean, .std = views.first.std};
  data::TwoViewLoader loader(data.train, views, {.batch_size = c.batch, .seed = c.seed, .threads = c.threads});
  int64_t steps_per_epoch = loader.batches_per_epoch();
  if (c.max_steps_per_epoch > 0) steps_per_epoch = std::min(steps_per_epoch, c.max_steps_per_epoch);
  const int64_t total_steps = steps_per_epoch * c.epochs;

  Rng rng(c.seed);
  auto method = methods::make_method(c.model, rng);
  method->to(device);
  auto opt = make_optimizer(c, *method);
  const optim::WarmupCosine schedule{c.warmup_epochs * steps_per_epoch, total_steps, scaled_lr(c), 0.0};
  const Monitor monitor(data.train, data.val, eval_transform,
                        {.k = c.knn_k, .temperature = c.knn_t, .bank_size = c.knn_bank, .batch = c.batch, .threads = c.threads});

  TrainResult result;
  int64_t start_epoch = 0;
  if (c.resume) {
    BT_CHECK(fs::exists(ckpt), "--resume: no checkpoint at ", ckpt.string());
    methods::TrainingState st = methods::load_checkpoint(ckpt, *method, *opt);
    start_epoch = st.epoch;
    rng.set_state(st.rng);
    std::fprintf(stderr, "resumed from %s at epoch %ld\n", ckpt.c_str(), long(start_epoch));
  }
  JsonlLog log(out / "log.jsonl", c.resume);
  if (!c.resume) log.write({{"config", nlohmann::json::parse(c.to_json())}});
  if (!c.resume && data.val) {  // the random-init encoder: the baseline the kNN must beat
    EpochRecord r = monitor.evaluate(*method);
    result.epochs.push_back(r);
    log.write(to_json(r));
  }

  for (int64_t epoch = start_epoch; epoch < c.epochs; ++epoch) {
    method->train();
    loader.start_epoch(epoch);
    Progress progress("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(c.epochs), steps_per_epoch);
    const auto t0 = std::chrono::steady_clock::now();
    double loss_sum = 0;
    data::TwoViewBatch batch;
    for (int64_t b = 0; b < steps_per_epoch && loader.next(batch); ++b) {
      const int64_t step = epoch * steps_per_epoch + b;  // 0-based, before this update
      opt->set_lr(schedule(step));
      opt->zero_grad();
      Tensor loss_t = method->loss(batch.view1.to(device), batch.view2.to(device));
      const double loss = loss_t.item();
      BT_CHECK(std::isfinite(loss), "non-finite loss (", loss, ") at step ", step + 1, " (epoch ", epoch + 1,
               "); the last good checkpoint is ", ckpt.string(), " — try a lower --lr");
      loss_t.backward();
      opt->step();
      method->after_step(step + 1, total_steps);
      loss_sum += loss;
      result.step_losses.push_back(loss);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double ips = double((b + 1) * c.batch) / secs;
      progress.update(b + 1, loss, ips);
      if ((step + 1) % c.log_every == 0)
        log.write({{"step", step + 1}, {"epoch", epoch + 1}, {"loss", loss}, {"lr", opt->param_groups()[0].lr},
                   {"images_per_s", ips}});
    }
    EpochRecord r = monitor.evaluate(*method);
    r.epoch = epoch + 1;
    r.loss = loss_sum / double(steps_per_epoch);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.images_per_s = double(steps_per_epoch * c.batch) / r.seconds;
    progress.finish(monitor.summary(r));
    result.epochs.push_back(r);
    log.write(to_json(r));
    methods::save_checkpoint(ckpt, *method, *opt,
                             {.step = (epoch + 1) * steps_per_epoch, .epoch = epoch + 1, .rng = rng.state(),
                              .config_json = c.to_json()});
    if (c.stop_after > 0 && epoch + 1 >= c.stop_after && epoch + 1 < c.epochs) return result;  // interrupted
  }

  methods::export_backbone(out / "backbone.safetensors", *method);
  write_plots(out, *method);
  return result;
}

}  // namespace bt::tools
