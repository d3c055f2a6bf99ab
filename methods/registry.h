#pragma once
// The single list of SSL methods. Each method's own files define its entry (name, one-line
// description, factory, recipe, plots); methods/registry.cpp lists the entries, one line each.
// make_method, the bt_train recipe defaults (tools/lib/train_config.cpp), the run plots
// (tools/lib/run_plots.cpp) and the --method checks of bt_train and step_bench all ask here.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "methods/method.h"

namespace bt::methods {

// The CIFAR training recipe at batch 256 (solo-learn configs; docs/design.md §5 table): what
// bt_train uses for every flag the user leaves at its default.
struct Recipe {
  std::string optimizer;  // lars, sgd or adamw
  double lr;              // base learning rate at batch 256 (scaled by batch/256)
  double weight_decay;
  double bias_lr_scale;   // lr multiplier of the 1-D parameters (BN, biases)
  std::string views;      // augmentation preset (data/augment.h): asymmetric, symmetric, simsiam
  std::optional<double> temperature = std::nullopt;  // the contrastive methods' τ (MethodConfig::temperature)
};

// What a finished run draws beyond the loss and kNN curves (tools/lib/run_plots.h).
struct PlotChoice {
  bool cross_correlation_heatmap;  // Barlow Twins' C of the last batch
};

struct MethodEntry {
  std::string name;         // the --method value, and Method::name()
  std::string description;  // one line for --help
  std::function<std::unique_ptr<Method>(const MethodConfig&, Rng&)> make;
  Recipe recipe;
  PlotChoice plots;
};

// Every method, in the order --help lists them.
const std::vector<MethodEntry>& method_registry();
// The entry named `name`; an unknown name is an Error listing the known ones.
const MethodEntry& find_method(const std::string& name);
std::vector<std::string> method_names();
// "barlow, byol, simsiam or simclr": the names for error and help texts.
std::string method_names_text();
// One line per method, "name: description", for --help.
std::string method_help_text();

}  // namespace bt::methods
