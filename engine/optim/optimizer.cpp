#include "engine/optim/optimizer.h"

#include <map>
#include <set>

#include "engine/autograd.h"

namespace bt::optim {

Optimizer::Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {
  std::set<std::string> names;
  for (const ParamGroup& g : groups_)
    for (const auto& [name, p] : g.params) {
      BT_CHECK(p.defined(), "optimizer: parameter '", name, "' is undefined");
      BT_CHECK(names.insert(name).second, "optimizer: parameter name '", name,
               "' appears twice");
    }
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (const ParamGroup& group : groups_)
    for (const auto& [name, p] : group.params) {
      const Tensor g = p.grad();
      if (!g.defined()) continue;
      BT_CHECK(p.device() == Device::cpu || p.dtype() == DType::f32, "optimizer: parameter '",
               name, "' is ", dtype_name(p.dtype()), " on ", device_name(p.device()),
               "; the device optimizer kernels are float32");
      BT_CHECK(p.is_contiguous(), "optimizer: parameter '", name, "' is not contiguous");
      BT_CHECK(g.dtype() == p.dtype() && g.device() == p.device(), "optimizer: gradient of '",
               name, "' is ", dtype_name(g.dtype()), " on ", device_name(g.device()),
               ", parameter is ", dtype_name(p.dtype()), " on ", device_name(p.device()));
      update(group, name, p, g.contiguous());
    }
}

void Optimizer::zero_grad() {
  for (const ParamGroup& group : groups_)
    for (const auto& entry : group.params) entry.second.zero_grad();
}

void Optimizer::set_lr(double lr) {
  for (ParamGroup& group : groups_) group.lr = lr * group.lr_scale;
}

Tensor Optimizer::slot(const std::string& name, const SlotSpec& spec, const Tensor& p,
                       bool* created) {
  const std::string key = name + "." + spec.name;
  auto it = state_.find(key);
  if (created) *created = it == state_.end();
  if (it != state_.end()) return it->second;
  Tensor t = spec.scalar ? Tensor::zeros({}, DType::f64)
                         : Tensor::zeros(p.shape(), p.dtype(), p.device());
  state_.emplace(key, t);
  return t;
}

void Optimizer::load_state(const nn::StateDict& state) {
  std::map<std::string, Tensor> params;
  for (const ParamGroup& g : groups_)
    for (const auto& [name, p] : g.params) params.emplace(name, p);
  const std::vector<SlotSpec> specs = slots();

  nn::StateDict loaded;
  for (const auto& [key, src] : state) {
    const size_t dot = key.rfind('.');
    auto param = dot == std::string::npos ? params.end() : params.find(key.substr(0, dot));
    BT_CHECK(param != params.end(), "optimizer load_state: key '", key,
             "' names no parameter of this optimizer");
    const std::string slot_name = key.substr(dot + 1);
    const SlotSpec* spec = nullptr;
    for (const SlotSpec& s : specs)
      if (slot_name == s.name) spec = &s;
    BT_CHECK(spec != nullptr, "optimizer load_state: key '", key, "' has unknown slot '",
             slot_name, "'");
    const Tensor& p = param->second;
    const Shape want = spec->scalar ? Shape{} : p.shape();
    BT_CHECK(src.shape() == want, "optimizer load_state: shape mismatch for '", key,
             "': checkpoint ", shape_str(src.shape()), ", expected ", shape_str(want));
    Tensor t = spec->scalar ? Tensor::empty({}, DType::f64)
                            : Tensor::empty(p.shape(), p.dtype(), p.device());
    t.copy_(src);
    loaded.emplace(key, t);
  }
  state_ = std::move(loaded);
}

}  // namespace bt::optim
