#pragma once
// Optimizer base: parameter groups, the step loop, learning-rate setting and the state that
// checkpoints carry (momentum buffers, Adam moments, step counts).
//
// State keys are "<param name>.<slot>", e.g. "layer1.0.conv1.weight.momentum_buffer", so a
// checkpoint is a flat name → Tensor map (safetensors-ready) and survives regrouping.
#include <string>
#include <vector>

#include "engine/nn/module.h"

namespace bt::optim {

struct ParamGroup {
  nn::NamedTensors params;  // (name, parameter); names must be unique across groups
  double lr = 0;            // the group's current learning rate, written by set_lr
  double lr_scale = 1;      // set_lr(x) sets lr = x·lr_scale (e.g. BT's bias lr 0.0048/0.2)
  double weight_decay = 0;
  bool exclude_from_adaptation = false;  // LARS: no trust ratio and no weight decay
};

// A state slot: its name and whether it is a scalar (a step count, kept on the CPU in f64)
// rather than a tensor shaped like its parameter.
struct SlotSpec {
  const char* name;
  bool scalar;
};

class Optimizer {
 public:
  explicit Optimizer(std::vector<ParamGroup> groups);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates every parameter that has a gradient, in place, with gradient recording off.
  // Parameters whose gradient is undefined are skipped (their state is left untouched).
  void step();
  void zero_grad();  // drops every parameter's gradient
  // Sets each group's lr to lr·lr_scale (schedules call this every step).
  void set_lr(double lr);

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }

  // The state tensors, keyed "<param>.<slot>" (handles; clone to snapshot).
  const nn::StateDict& state() const { return state_; }
  // Replaces the state with copies of `state`, checking first that each key names a parameter
  // and a slot of this optimizer and that each shape fits; errors name the key.
  void load_state(const nn::StateDict& state);

 protected:
  virtual std::vector<SlotSpec> slots() const = 0;
  // One parameter's update; g is contiguous, same dtype and device as p.
  virtual void update(const ParamGroup& group, const std::string& name, const Tensor& p,
                      const Tensor& g) = 0;
  // The state tensor "<name>.<slot>", created as zeros (like p, or a CPU f64 scalar for a
  // scalar slot) when absent; *created tells whether it was just made.
  Tensor slot(const std::string& name, const SlotSpec& spec, const Tensor& p,
              bool* created = nullptr);

 private:
  std::vector<ParamGroup> groups_;
  nn::StateDict state_;
};

}  // namespace bt::optim
