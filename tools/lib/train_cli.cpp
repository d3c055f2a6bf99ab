#include "tools/lib/train_cli.h"

#include <cmath>

#include "engine/error.h"
#include "methods/registry.h"
#include "tools/lib/finite_flags.h"

namespace bt::tools {

void add_train_options(CLI::App& app, TrainFlags& flags) {
  TrainConfig& c = flags.config;
  app.add_option("--method", c.model.method, methods::method_help_text())
      ->check(CLI::IsMember(methods::method_names()))->capture_default_str();
  app.add_option("--arch", c.model.backbone.arch, "resnet18 or resnet50")
      ->check(CLI::IsMember({"resnet18", "resnet50"}))->capture_default_str();
  app.add_option("--width", c.model.backbone.width, "channels of layer1 (64 = torchvision)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--stem", flags.stem, "cifar (3x3 conv, no max-pool) or imagenet (7x7/2 + max-pool)")
      ->check(CLI::IsMember({"cifar", "imagenet"}))->capture_default_str();
  app.add_option("--head-scale", c.model.head_scale, "scale of the default projector/predictor widths")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--proj-hidden", c.model.proj_hidden, "projector hidden width (0: method default)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--proj-out", c.model.proj_out, "projector output width (0: method default)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--pred-hidden", c.model.pred_hidden, "predictor hidden width (0: method default)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--lambda", flags.lambda, "Barlow Twins off-diagonal weight, or 'auto' = 1/(D-1)")->capture_default_str();
  app.add_option("--temperature", c.model.temperature, "contrastive temperature (default: the method's, SimCLR 0.5, MoCo 0.2)")
      ->check(CLI::PositiveNumber);
  app.add_option("--tau-base", c.model.byol_tau_base, "BYOL EMA momentum at step 0")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app.add_option("--moco-queue", c.model.moco_queue_size, "MoCo: negatives in the key queue (default 4096)")
      ->check(CLI::Range(int64_t(1), int64_t(10'000'000)));
  app.add_option("--moco-momentum", c.model.moco_momentum, "MoCo: key-encoder EMA momentum (default 0.99)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--moco-symmetric", c.model.moco_symmetric, "MoCo: both views as queries, losses averaged (default true)");
  app.add_option("--data", c.data,
                 "synthetic, an image folder root/<class>/<img>, or cifar10-bin:DIR; without it, a synthetic "
                 "demo with --width 16 --head-scale 0.25 --batch 128 unless given")
      ->capture_default_str();
  app.add_option("--val-data", c.val_data, "a separate labelled folder for the kNN monitor");
  app.add_option("--val-split", c.val_split, "fraction of --data held out for the kNN monitor")
      ->check(CLI::Range(0.0, 0.99))->capture_default_str();
  app.add_option("--synthetic-size", c.synthetic_size, "images in the synthetic set")->check(CLI::Range(int64_t(2), int64_t(10'000'000)))->capture_default_str();
  app.add_option("--image-size", c.image_size, "side of the augmented views")->check(CLI::Range(8, 1024))->capture_default_str();
  app.add_option("--views", c.views,
                 "augmentation preset (data/augment.h): asymmetric (BT, BYOL), symmetric (SimCLR), simsiam "
                 "(SimSiam's own: crop scale 0.2-1, weaker jitter); default: the method's")
      ->check(CLI::IsMember({"asymmetric", "symmetric", "simsiam"}));
  app.add_flag("--skip-bad", c.skip_bad, "skip undecodable images (counted) instead of failing");
  app.add_option("--epochs", c.epochs, "training epochs")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--batch", c.batch, "images per view per step")->check(CLI::Range(int64_t(2), int64_t(1'000'000)))->capture_default_str();
  app.add_option("--max-steps-per-epoch", c.max_steps_per_epoch, "cap on steps per epoch (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--optimizer", c.optimizer, "lars, sgd or adamw (default: the method's recipe)")
      ->check(CLI::IsMember({"lars", "sgd", "adamw"}));
  app.add_option("--lr", c.lr, "base learning rate at batch 256, scaled by batch/256 (default: recipe)")->check(CLI::PositiveNumber);
  app.add_option("--wd", c.weight_decay, "weight decay (default: recipe)")->check(CLI::NonNegativeNumber);
  app.add_option("--bias-lr-scale", c.bias_lr_scale, "lr multiplier of BN and bias parameters (default: recipe)")->check(CLI::PositiveNumber);
  app.add_option("--momentum", c.momentum, "optimizer momentum")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app.add_option("--lars-eta", c.lars_eta, "LARS trust coefficient")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--warmup-epochs", c.warmup_epochs, "linear warmup epochs (default: min(10, epochs/10))")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", c.seed, "random seed (init, augmentations, order)")->capture_default_str();
  app.add_option("--device", c.device, "cpu, cuda (a GPU: cuBLAS, cuDNN and the kernels of kernels/cuda) or simt (those kernels on the CPU's SIMT emulator: for checking, slow)")
      ->check(CLI::IsMember({"cpu", "cuda", "simt"}))->capture_default_str();
  app.add_option("--precision", c.precision, "f32, or bf16: convolutions and matrix products on bf16-rounded inputs with float32 sums (a CPU with AVX512_BF16; weights, batch norm and losses stay float32)")
      ->check(CLI::IsMember({"f32", "bf16"}))->capture_default_str();
  app.add_option("--threads", c.threads, "data-loading threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--out", c.out, "output directory (log, checkpoint, plots, weights)")->capture_default_str();
  app.add_flag("--resume", c.resume, "continue from --out/checkpoint.safetensors");
  app.add_option("--stop-after", c.stop_after, "stop after this many epochs, resumable with --resume (0: never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--knn-k", c.knn_k, "neighbours of the kNN monitor")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--knn-t", c.knn_t, "temperature of the kNN vote weights")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--knn-bank", c.knn_bank, "training images in the kNN memory bank (0: all)")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--log-every", c.log_every, "steps between JSONL step lines")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--sync-bn", c.sync_bn, "under mpirun: BatchNorms with global-batch statistics, heads or all (+ backbone)")
      ->check(CLI::IsMember({"heads", "all"}))->capture_default_str();
  app.add_option("--dist-timeout", c.dist_timeout, "under mpirun: seconds a collective may wait before every rank is ended")
      ->check(CLI::PositiveNumber)->capture_default_str();
}

TrainConfig finish_train_config(const CLI::App& app, TrainFlags flags) {
  reject_non_finite_flags(app);
  TrainConfig& c = flags.config;
  if (app.count("--data") == 0) {
    if (app.count("--width") == 0) c.model.backbone.width = 16;
    if (app.count("--head-scale") == 0) c.model.head_scale = 0.25;
    if (app.count("--batch") == 0) c.batch = 128;
  }
  c.model.backbone.stem = flags.stem == "cifar" ? models::Stem::cifar : models::Stem::imagenet;
  const std::string& lambda = flags.lambda;
  if (lambda == "auto") {
    c.model.bt_lambda_auto = true;
  } else {
    size_t used = 0;
    try {
      c.model.bt_lambda = std::stod(lambda, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != lambda.size() || !std::isfinite(c.model.bt_lambda) || c.model.bt_lambda < 0)
      throw Error("--lambda: expected a finite non-negative number or 'auto', got '" + lambda + "'");
  }
  c.apply_method_defaults();
  return c;
}

}  // namespace bt::tools
