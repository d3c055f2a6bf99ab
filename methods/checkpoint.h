#pragma once
// Checkpoints of a whole training run, and the backbone export a PyTorch user loads.
//
// A checkpoint is one safetensors file: "model.<name>" for every parameter and buffer of the
// method, "optim.<param>.<slot>" for the optimizer state, and metadata: the method, arch,
// width, stem, step, epoch, RNG state and the run's config (JSON). Written atomically.
#include <array>
#include <string>

#include "engine/optim/optimizer.h"
#include "methods/method.h"

namespace bt::methods {

struct TrainingState {
  int64_t step = 0;   // optimizer steps taken
  int64_t epoch = 0;  // epochs completed
  std::array<uint64_t, 4> rng{};
  std::string config_json;  // the run's settings, for the record
};

void save_checkpoint(const std::string& path, const Method& method, const optim::Optimizer& opt,
                     const TrainingState& state);

// Loads into an already-built method and optimizer. A checkpoint of another method, arch,
// width or stem is refused with an error naming the file and both values.
TrainingState load_checkpoint(const std::string& path, Method& method, optim::Optimizer& opt);

// The backbone alone, with torchvision's names ("conv1.weight", "layer1.0.bn1.running_mean",
// ...; no fc), float32: loads with torchvision.models.resnet18().load_state_dict(strict=False).
void export_backbone(const std::string& path, Method& method);

}  // namespace bt::methods
