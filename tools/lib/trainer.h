#pragma once
// One bt_train run: data → method → optimizer → epochs of steps, with a kNN monitor and
// collapse metrics each epoch, an atomic checkpoint each epoch, --resume, plots and the
// backbone export at the end. Output directory layout:
//   log.jsonl               one JSON object per logged step and per epoch
//   checkpoint.safetensors  the last completed epoch (weights, optimizer, step, RNG, config)
//   backbone.safetensors    torchvision-named backbone weights (at the end)
//   loss.png, knn.png, cross_correlation.png (Barlow Twins)
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "engine/dist/process_group.h"
#include "tools/lib/train_config.h"

namespace bt::tools {

struct EpochRecord {
  int64_t epoch = 0;          // 1-based; 0 is the encoder at its random init
  double loss = NAN;          // mean training loss over the epoch
  double knn_top1 = NAN;      // kNN accuracy on the labelled split (NaN without one)
  double embedding_std = NAN; // mean per-dim std of the normalised embeddings (≈ 1/√D healthy)
  double effective_rank = NAN;
  double seconds = 0;
  double images_per_s = 0;    // training images (two views each count once) per second
};

struct TrainResult {
  // [0] is the random-init evaluation when there is a split; empty when resumed from a checkpoint
  // that already holds every epoch (a run killed after its last checkpoint: only the export is left)
  std::vector<EpochRecord> epochs;
  std::vector<double> step_losses;  // every step's loss of this process's run
};

// A test's way into the loop: after_backward(step, method) runs after every backward (step is
// 1-based), e.g. to plant a NaN in a gradient.
struct TrainHooks {
  std::function<void(int64_t step, methods::Method& method)> after_backward;
};

// Runs the whole training. Throws bt::Error with a one-line message on bad input, and on a
// non-finite loss, gradient or parameter (naming the step, the epoch and, for the last two, the
// first such parameter; no checkpoint is written after that step, the last good one stays).
//
// Data-parallel over `group` (null: a local world of 1; docs/distributed.md): config.batch is
// the global batch, each rank trains on its shard of it, parameters and buffers start as
// rank 0's, gradients are averaged before the optimizer; rank 0 alone evaluates, logs,
// checkpoints and writes the plots, the other ranks waiting at a barrier. The step losses and
// epoch losses returned are the global batch's on every rank.
TrainResult train(TrainConfig config, std::shared_ptr<dist::ProcessGroup> group = nullptr,
                  const TrainHooks& hooks = {});

}  // namespace bt::tools
