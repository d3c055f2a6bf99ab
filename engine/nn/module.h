#pragma once
// nn::Module: a tree of modules owning named parameters (trainable leaves) and buffers
// (running statistics). Names follow PyTorch / torchvision, so a state_dict saved here loads
// into a torchvision model: a child registered as "layer1" whose child "0" has a buffer
// "running_mean" gives "layer1.0.running_mean".
//
// Order: named_parameters() / named_buffers() list a module's own entries in registration
// order, then each child's (recursively) in registration order — PyTorch's order.
// Tensor handles are stable for a module's lifetime: to(Device) and load_state_dict() write
// into the existing tensors, so optimizers and layers holding handles stay valid.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace bt::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
// name → tensor; std::map keeps the keys sorted (the order safetensors files use).
using StateDict = std::map<std::string, Tensor>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The single-input forward of layers and models; the default throws (containers or
  // methods with other signatures need not implement it).
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // ---- registration (names must be unique within this module and contain no '.') ----
  // Marks `t` as requiring a gradient and returns it.
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

  // ---- recursive views (prefixed names, registration order) ----
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  std::vector<Tensor> parameters() const;
  std::vector<Tensor> buffers() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  int64_t parameter_count() const;  // Σ numel over parameters()

  // ---- mode ----
  void train(bool on = true);  // recursive
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // ---- state ----
  // Parameters and buffers, detached handles sharing the module's storage (clone to snapshot).
  StateDict state_dict() const;
  // Copies every entry into the matching tensor (converting dtype, crossing devices). Checks
  // everything before writing anything: a shape mismatch is always an error (naming the key
  // and both shapes); with `strict`, so are missing and unexpected keys (each named).
  void load_state_dict(const StateDict& state, bool strict = true);

  void zero_grad();      // drops every parameter's gradient (PyTorch's set_to_none)
  void to(Device device);  // moves parameters, their gradients and buffers in place

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, bool params, NamedTensors& out) const;

  NamedTensors params_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace bt::nn
