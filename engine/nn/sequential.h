#pragma once
// nn.Sequential (children named "0", "1", … in order; forward chains them) and nn.ReLU.
#include <initializer_list>

#include "engine/nn/module.h"

namespace bt::nn {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> layers);

  // Appends `layer` as child str(size()).
  void push_back(std::shared_ptr<Module> layer);
  size_t size() const { return named_children().size(); }
  Module& operator[](size_t i) const;
  Tensor forward(const Tensor& x) override;
};

}  // namespace bt::nn
