#pragma once
// Everything a bt_train run is configured by; every number is a flag (tools/bt_train.cpp).
// The recipe fields are optional: unset, they take the method's recipe (methods/registry.h)
// in apply_method_defaults, after which every one holds a value.
#include <cstdint>
#include <optional>
#include <string>

#include "methods/method.h"

namespace bt::tools {

struct TrainConfig {
  methods::MethodConfig model;  // method, backbone, heads, λ, temperature, τ_base
  // Data: "synthetic" (built in), an image folder root/<class>/<image>, or "cifar10-bin:DIR".
  std::string data = "synthetic";
  std::string val_data;       // a separate labelled folder for kNN; else val_split of data
  double val_split = 0.1;     // fraction of data held out for the kNN monitor (0: none)
  int64_t synthetic_size = 6000;
  int image_size = 32;
  bool skip_bad = false;      // skip undecodable images (counted) instead of failing
  std::optional<std::string> views;  // asymmetric, symmetric, simsiam (data/augment.h)

  int64_t epochs = 10;
  int64_t batch = 256;
  int64_t max_steps_per_epoch = 0;  // 0: whole epochs
  std::optional<std::string> optimizer;  // lars, sgd, adamw
  std::optional<double> lr;              // base lr at batch 256 (scaled by batch/256)
  std::optional<double> weight_decay;
  std::optional<double> bias_lr_scale;   // lr multiplier of 1-D params
  double momentum = 0.9;
  double lars_eta = 0.02;
  std::optional<int64_t> warmup_epochs;  // unset: min(10, epochs / 10)

  uint64_t seed = 0;
  std::string device = "cpu";  // cpu, simt (the CUDA kernels on the emulator: slow, for checking) or cuda
  std::string precision = "f32";  // f32 or bf16: conv2d and matmul on the cpu device (engine/precision.h)
  int threads = 2;
  std::string out = "runs/bt";
  bool resume = false;
  int64_t stop_after = 0;  // stop after this many epochs, as if interrupted (0: never)
  int64_t knn_k = 200;
  double knn_t = 0.1;
  int64_t knn_bank = 10000;  // training images in the kNN memory bank (0: all)
  int64_t log_every = 10;  // JSONL step lines
  // Data parallelism (docs/distributed.md): BatchNorms with global-batch statistics, "heads"
  // (projector and predictor) or "all" (the backbones too); the collectives' deadline.
  std::string sync_bn = "heads";
  double dist_timeout = 300;
  int world_size = 1;  // set by the trainer from its process group (recorded in the log)

  // The method's recipe (methods/registry.h, docs/design.md §5) for the recipe fields left unset.
  void apply_method_defaults();
  std::string to_json() const;  // after apply_method_defaults (the recipe fields must hold values)
};

// One line naming the run's recipe as it will train (after apply_method_defaults), e.g.
// "barlow: resnet18 width 16, heads x0.25, synthetic, batch 128, 10 epochs, lars lr 0.3 x 128/256 ...".
std::string describe(const TrainConfig& c);

}  // namespace bt::tools
