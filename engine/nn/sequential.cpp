#include "engine/nn/sequential.h"

#include "engine/ops.h"

namespace bt::nn {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> layers) {
  for (const auto& layer : layers) push_back(layer);
}

void Sequential::push_back(std::shared_ptr<Module> layer) {
  register_module(std::to_string(size()), std::move(layer));
}

Module& Sequential::operator[](size_t i) const {
  BT_CHECK(i < size(), "Sequential: index ", i, " out of range for ", size(), " layers");
  return *named_children()[i].second;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& entry : named_children()) y = entry.second->forward(y);
  return y;
}

}  // namespace bt::nn
