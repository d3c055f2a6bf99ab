#include "tools/lib/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <nlohmann/json.hpp>

#include "data/loader.h"
#include "engine/autograd.h"
#include "engine/device.h"
#include "engine/precision.h"
#include "engine/dist/collectives.h"
#include "engine/optim/adamw.h"
#include "engine/optim/lars.h"
#include "engine/optim/param_groups.h"
#include "engine/optim/schedule.h"
#include "engine/optim/sgd.h"
#include "methods/checkpoint.h"
#include "methods/method.h"
#include "tools/lib/dataset_spec.h"
#include "tools/lib/monitor.h"
#include "tools/lib/non_finite.h"
#include "tools/lib/progress.h"
#include "tools/lib/run_log.h"
#include "tools/lib/run_plots.h"

namespace bt::tools {

namespace fs = std::filesystem;

namespace {

// The peak learning rate: --lr is given at batch 256 (the linear scaling rule, Goyal et al. 2017).
double scaled_lr(const TrainConfig& c) { return *c.lr * double(c.batch) / 256.0; }

std::unique_ptr<optim::Optimizer> make_optimizer(const TrainConfig& c, methods::Method& method) {
  auto groups = optim::decay_groups(method.trainable_parameters(), *c.weight_decay, *c.bias_lr_scale);
  if (c.optimizer == "lars")
    return std::make_unique<optim::LARS>(std::move(groups),
                                         optim::LarsOptions{.momentum = c.momentum, .eta = c.lars_eta, .clip_lr = true});
  if (c.optimizer == "sgd") return std::make_unique<optim::SGD>(std::move(groups), optim::SgdOptions{.momentum = c.momentum});
  if (c.optimizer == "adamw") return std::make_unique<optim::AdamW>(std::move(groups));
  throw Error("--optimizer: unknown optimizer '" + *c.optimizer + "' (expected lars, sgd or adamw)");
}

// Temporary files a killed run left behind (a checkpoint or log being written: "<name>.tmp.<pid>...").
void remove_stale_temporaries(const fs::path& out) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out, ec)) {
    const std::string name = e.path().filename().string();
    for (const char* file : {"checkpoint.safetensors.tmp.", "backbone.safetensors.tmp.", "log.jsonl.tmp."})
      if (name.rfind(file, 0) == 0) fs::remove(e.path(), ec);
  }
}

nlohmann::json to_json(const EpochRecord& r) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"epoch", r.epoch}, {"loss", num(r.loss)}, {"knn_top1", num(r.knn_top1)},
          {"embedding_std", num(r.embedding_std)}, {"effective_rank", num(r.effective_rank)},
          {"seconds", r.seconds}, {"images_per_s", r.images_per_s}};
}

// A data-parallel epoch's line gains the bytes each rank sent per step (docs/distributed.md).
nlohmann::json with_comm(nlohmann::json line, const dist::CommStats& comm, int64_t steps, const dist::ProcessGroup& group) {
  if (group.world_size() == 1) return line;
  line["world_size"] = group.world_size();
  line["all_reduce_bytes_per_step"] = comm.all_reduce_bytes / steps;
  line["all_gather_bytes_per_step"] = comm.all_gather_bytes / steps;
  line["collectives_per_step"] = double(comm.calls) / double(steps);
  return line;
}

// Every rank must see the same data and run the same flags, or the ranks would run different
// numbers of steps: the values are gathered and compared with rank 0's, on every rank, so all
// fail together with the same message.
void check_ranks_agree(dist::ProcessGroup& group, const TrainConfig& c, int64_t dataset_size,
                       int64_t steps_per_epoch) {
  if (group.world_size() == 1) return;
  const std::string config = c.to_json();
  const double config_hash = double(std::hash<std::string>{}(config) >> 12);  // exact in a double
  const std::vector<double> mine = {double(dataset_size), double(steps_per_epoch), config_hash};
  const std::vector<double> all = group.all_gather(Tensor::from_vector(mine, {1, 3}, DType::f64)).to_vector();
  for (int r = 1; r < group.world_size(); ++r) {
    const double* theirs = &all[size_t(3 * r)];
    BT_CHECK(theirs[0] == all[0] && theirs[1] == all[1], "shard mismatch: rank ", r, " has ", int64_t(theirs[0]),
             " training images (", int64_t(theirs[1]), " steps per epoch), rank 0 has ", int64_t(all[0]), " (",
             int64_t(all[1]), "): every rank must read the same data");
    BT_CHECK(theirs[2] == all[2], "rank ", r, " runs other flags than rank 0: every rank needs the same command line");
  }
}

// The global batch's loss: the mean of the ranks' losses (engine/dist/collectives.h).
double global_loss(const Tensor& local_loss, dist::ProcessGroup& group) {
  if (group.world_size() == 1) return local_loss.item();
  Tensor v = Tensor::full({1}, local_loss.item() / double(group.world_size()));
  group.all_reduce_sum_(v);
  return v.item();
}

// Stops the run at the first NaN or ±inf among `values` (the trainable parameters' gradients or
// the parameters themselves), naming the parameter; nothing is saved after such a step.
void stop_if_non_finite(const std::vector<Tensor>& values, const std::vector<std::string>& names, const char* what,
                        int64_t step, int64_t epoch, const fs::path& ckpt) {
  const std::optional<size_t> bad = first_non_finite(values);
  if (!bad) return;
  const std::string kept = fs::exists(ckpt) ? "the last good checkpoint " + ckpt.string() + " is kept"
                                            : "no checkpoint was written";
  throw Error("non-finite " + std::string(what) + " of " + names[*bad] + " at step " + std::to_string(step) +
              " (epoch " + std::to_string(epoch) + "); " + kept + " — try a lower --lr");
}

std::vector<Tensor> gradients(const std::vector<Tensor>& params) {
  std::vector<Tensor> g;
  for (const Tensor& p : params) g.push_back(p.grad());
  return g;
}

}  // namespace

TrainResult train(TrainConfig c, std::shared_ptr<dist::ProcessGroup> group, const TrainHooks& hooks) {
  if (!group) group = dist::make_local_group();
  const bool lead = group->rank() == 0;  // rank 0 evaluates, logs and writes files
  c.world_size = group->world_size();
  c.apply_method_defaults();
  const Device device = parse_device(c.device);
  try {
    require_device(device);  // "no CUDA device" before anything is read or written
  } catch (const std::exception& e) {
    throw Error("--device " + c.device + ": " + e.what());
  }
  const Precision precision = parse_precision(c.precision);
  check_precision_supported(precision);
  BT_CHECK(precision == Precision::f32 || device == Device::cpu, "--precision bf16 runs on the cpu device only, not --device ",
           c.device);
  BT_CHECK(c.epochs > 0, "--epochs must be positive, got ", c.epochs);
  BT_CHECK(c.batch > 1, "--batch must be at least 2 (batch statistics), got ", c.batch);
  BT_CHECK(c.batch % c.world_size == 0 && c.batch / c.world_size > 1, "--batch ", c.batch,
           " (the global batch) must be a multiple of the ", c.world_size, " ranks, at least 2 images each");
  BT_CHECK(c.sync_bn == "heads" || c.sync_bn == "all", "--sync-bn: expected heads or all, got '", c.sync_bn, "'");
  const fs::path out(c.out), ckpt = out / "checkpoint.safetensors";
  if (lead) {
    fs::create_directories(out);
    remove_stale_temporaries(out);
  }

  OpenedData data = open_data({.data = c.data, .val_data = c.val_data, .val_split = c.val_split,
                               .synthetic_size = c.synthetic_size, .image_size = c.image_size,
                               .skip_bad = c.skip_bad, .seed = c.seed});
  if (data.skipped > 0 && lead) std::fprintf(stderr, "skipped %ld undecodable images (--skip-bad)\n", long(data.skipped));
  BT_CHECK(data.train->size() >= c.batch, "--batch ", c.batch, " is larger than the training set (",
           data.train->size(), " images)");
  const data::ViewPair views = data::views_named(*c.views, c.image_size, data.cifar_like, "--views");
  const data::EvalTransform eval_transform{.size = c.image_size, .mean = views.first.mean, .std = views.first.std};
  data::TwoViewLoader loader(data.train, views, {.batch_size = c.batch, .seed = c.seed, .threads = c.threads,
                                                 .rank = group->rank(), .world = group->world_size()});
  int64_t steps_per_epoch = loader.batches_per_epoch();
  if (c.max_steps_per_epoch > 0) steps_per_epoch = std::min(steps_per_epoch, c.max_steps_per_epoch);
  check_ranks_agree(*group, c, data.train->size(), steps_per_epoch);
  const int64_t total_steps = steps_per_epoch * c.epochs;

  Rng rng(c.seed);
  auto method = methods::make_method(c.model, rng);
  method->to(device);
  method->set_process_group(group, c.sync_bn == "all");
  auto opt = make_optimizer(c, *method);
  std::vector<Tensor> trained;  // the gradients averaged over ranks, in the same order everywhere
  std::vector<std::string> trained_names;
  for (auto& [name, p] : method->trainable_parameters()) {
    trained.push_back(p);
    trained_names.push_back(name);
  }
  const optim::WarmupCosine schedule{*c.warmup_epochs * steps_per_epoch, total_steps, scaled_lr(c), 0.0};
  const Monitor monitor(data.train, data.val, eval_transform,
                        {.k = c.knn_k, .temperature = c.knn_t, .bank_size = c.knn_bank, .batch = c.batch, .threads = c.threads});

  TrainResult result;
  int64_t start_epoch = 0;
  if (c.resume) {
    BT_CHECK(fs::exists(ckpt), "--resume: no checkpoint at ", ckpt.string());
    methods::TrainingState st = methods::load_checkpoint(ckpt, *method, *opt);
    start_epoch = st.epoch;
    rng.set_state(st.rng);
    if (lead) truncate_log_to_checkpoint(out / "log.jsonl", st.step, st.epoch);  // a killed epoch's lines
    if (lead) std::fprintf(stderr, "resumed from %s at epoch %ld\n", ckpt.c_str(), long(start_epoch));
  }
  dist::broadcast_module(*method, *group);  // every rank starts from rank 0's weights and buffers
  std::optional<JsonlLog> log;
  if (lead) log.emplace(out / "log.jsonl", c.resume);
  if (lead && !c.resume) log->write({{"config", nlohmann::json::parse(c.to_json())}});
  if (lead && !c.resume && data.val) {  // the random-init encoder: the baseline the kNN must beat
    EpochRecord r = monitor.evaluate(*method);
    result.epochs.push_back(r);
    log->write(to_json(r));
  }
  group->barrier();

  for (int64_t epoch = start_epoch; epoch < c.epochs; ++epoch) {
    method->train();
    loader.start_epoch(epoch);
    std::optional<Progress> progress;
    if (lead) progress.emplace("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(c.epochs), steps_per_epoch);
    const auto t0 = std::chrono::steady_clock::now();
    double loss_sum = 0;
    group->reset_stats();  // this epoch's steps only: the communication volume per step
    data::TwoViewBatch batch;
    for (int64_t b = 0; b < steps_per_epoch && loader.next(batch); ++b) {
      const int64_t step = epoch * steps_per_epoch + b;  // 0-based, before this update
      opt->set_lr(schedule(step));
      opt->zero_grad();
      Tensor loss_t;
      {
        PrecisionScope scope(precision);  // the forward's conv2d and matmul, and so their backward
        loss_t = method->loss(batch.view1.to(device), batch.view2.to(device));
      }
      const double loss = global_loss(loss_t, *group);  // the same on every rank: all stop together
      BT_CHECK(std::isfinite(loss), "non-finite loss (", loss, ") at step ", step + 1, " (epoch ", epoch + 1,
               "); the last good checkpoint is ", ckpt.string(), " — try a lower --lr");
      loss_t.backward();
      dist::average_gradients(trained, *group);  // before the optimizer: LARS trust ratios see the average
      if (hooks.after_backward) hooks.after_backward(step + 1, *method);
      // The averaged gradients and the updated parameters are the same on every rank: all stop together.
      stop_if_non_finite(gradients(trained), trained_names, "gradient", step + 1, epoch + 1, ckpt);
      opt->step();
      stop_if_non_finite(trained, trained_names, "parameter", step + 1, epoch + 1, ckpt);
      method->after_step(step + 1, total_steps);
      loss_sum += loss;
      result.step_losses.push_back(loss);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double ips = double((b + 1) * c.batch) / secs;
      if (!lead) continue;
      progress->update(b + 1, loss, ips);
      if ((step + 1) % c.log_every == 0)
        log->write({{"step", step + 1}, {"epoch", epoch + 1}, {"loss", loss}, {"lr", opt->param_groups()[0].lr},
                   {"images_per_s", ips}});
    }
    const dist::CommStats comm = group->stats();
    // Unsynchronised BatchNorms (--sync-bn heads) keep per-rank running statistics: rank 0's go
    // to every rank, so the ranks stay identical and rank 0's checkpoint describes them all.
    dist::broadcast_tensors(method->buffers(), *group);
    EpochRecord r = lead ? monitor.evaluate(*method) : EpochRecord{};
    r.epoch = epoch + 1;
    r.loss = loss_sum / double(steps_per_epoch);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.images_per_s = double(steps_per_epoch * c.batch) / r.seconds;
    result.epochs.push_back(r);
    if (lead) {
      progress->finish(monitor.summary(r));
      log->write(with_comm(to_json(r), comm, steps_per_epoch, *group));
      methods::save_checkpoint(ckpt, *method, *opt,
                               {.step = (epoch + 1) * steps_per_epoch, .epoch = epoch + 1, .rng = rng.state(),
                                .config_json = c.to_json()});
    }
    group->barrier();  // no rank runs ahead of (or resumes from) a checkpoint being written
    if (c.stop_after > 0 && epoch + 1 >= c.stop_after && epoch + 1 < c.epochs) return result;  // interrupted
  }

  if (lead) {
    methods::export_backbone(out / "backbone.safetensors", *method);
    write_plots(out, *method);
  }
  group->barrier();
  return result;
}

}  // namespace bt::tools
