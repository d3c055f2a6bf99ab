#include "engine/nn/module.h"

#include <set>
#include <sstream>

#include "engine/autograd.h"

namespace bt::nn {

Tensor Module::forward(const Tensor&) {
  detail::fail("this module has no single-input forward(Tensor)");
}

void Module::check_new_name(const std::string& name) const {
  BT_CHECK(!name.empty() && name.find('.') == std::string::npos, "module: invalid name '", name,
           "' (must be non-empty and contain no '.')");
  auto taken = [&](const auto& list) {
    for (const auto& entry : list)
      if (entry.first == name) return true;
    return false;
  };
  BT_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_), "module: name '", name,
           "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name(name);
  BT_CHECK(t.defined(), "module: parameter '", name, "' is undefined");
  BT_CHECK(t.is_leaf(), "module: parameter '", name, "' must be a leaf tensor");
  t.requires_grad_(true);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name);
  BT_CHECK(t.defined(), "module: buffer '", name, "' is undefined");
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(name);
  BT_CHECK(m != nullptr, "module: child '", name, "' is null");
  m->train(training_);
  children_.emplace_back(name, std::move(m));
}

void Module::collect(const std::string& prefix, bool params, NamedTensors& out) const {
  for (const auto& [name, t] : params ? params_ : buffers_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& entry : named_parameters()) out.push_back(entry.second);
  return out;
}

std::vector<Tensor> Module::buffers() const {
  std::vector<Tensor> out;
  for (auto& entry : named_buffers()) out.push_back(entry.second);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& entry : children_) entry.second->train(on);
}

StateDict Module::state_dict() const {
  StateDict out;
  for (auto& [name, t] : named_parameters()) out.emplace(name, t.detach());
  for (auto& [name, t] : named_buffers()) out.emplace(name, t.detach());
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  NamedTensors own = named_parameters();
  for (auto& entry : named_buffers()) own.push_back(entry);

  std::vector<std::string> problems;
  std::set<std::string> own_names;
  for (const auto& [name, t] : own) {
    own_names.insert(name);
    auto it = state.find(name);
    if (it == state.end()) {
      if (strict) problems.push_back("missing key '" + name + "'");
    } else if (it->second.shape() != t.shape()) {
      problems.push_back("shape mismatch for '" + name + "': checkpoint " +
                         shape_str(it->second.shape()) + ", model " + shape_str(t.shape()));
    }
  }
  if (strict)
    for (const auto& entry : state)
      if (!own_names.count(entry.first))
        problems.push_back("unexpected key '" + entry.first + "'");
  if (!problems.empty()) {
    std::ostringstream os;
    os << "load_state_dict: ";
    for (size_t i = 0; i < problems.size(); ++i) os << (i ? "; " : "") << problems[i];
    throw Error(os.str());
  }

  NoGradGuard no_grad;
  for (const auto& [name, t] : own) {
    auto it = state.find(name);
    if (it != state.end()) t.copy_(it->second);
  }
}

void Module::zero_grad() {
  for (const Tensor& p : parameters()) p.zero_grad();
}

namespace {
// Points `t`'s own TensorImpl at a contiguous copy on `device`, so every handle follows.
void move_in_place(const Tensor& t, Device device) {
  if (t.device() == device) return;
  Tensor moved = Tensor::empty(t.shape(), t.dtype(), device);
  moved.copy_(t);
  TensorImpl* impl = t.impl();
  impl->storage = moved.storage();
  impl->strides = moved.strides();
  impl->offset = 0;
}
}  // namespace

void Module::to(Device device) {
  for (const Tensor& p : parameters()) {
    move_in_place(p, device);
    if (p.grad().defined()) move_in_place(p.grad(), device);
  }
  for (const Tensor& b : buffers()) move_in_place(b, device);
}

}  // namespace bt::nn
