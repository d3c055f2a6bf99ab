#pragma once
// bt_train's command line: its CLI11 options bound to a TrainConfig, and what follows parsing
// (non-finite values refused, the synthetic demo's sizes, --stem and --lambda converted, the
// method's recipe defaults). Shared by tools/bt_train.cpp and fuzz/fuzz_cli.cpp.
#include <CLI/CLI.hpp>
#include <string>

#include "tools/lib/train_config.h"

namespace bt::tools {

// The parsed flags: the config, and the two flags given as text and converted afterwards.
struct TrainFlags {
  TrainConfig config;
  std::string stem = "cifar";
  std::string lambda = "0.0051";
};

// Registers every bt_train option on `app`, each bound to a field of `flags`.
void add_train_options(CLI::App& app, TrainFlags& flags);

// After app.parse: the config to train. Throws bt::Error naming the flag for a non-finite number
// or a bad --lambda. With no --data: a demo sized to finish in about 3 minutes on 2 CPU cores
// (--width 16 --head-scale 0.25 --batch 128 unless given), at the method's recipe.
TrainConfig finish_train_config(const CLI::App& app, TrainFlags flags);

}  // namespace bt::tools
