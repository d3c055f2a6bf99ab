#pragma once
// Define-by-run autograd. Each differentiable op that sees an input requiring a gradient
// records a Node {inputs, backward function}; Tensor::backward() walks the nodes once in
// reverse topological order, accumulating gradients.
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace bt {

// Given ∂L/∂output, returns ∂L/∂input_i for every input (an undefined Tensor where an input
// needs no gradient). Backward functions run with gradient recording off.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_out)>;

struct Node {
  std::string name;
  std::vector<Tensor> inputs;
  BackwardFn backward;
};

bool grad_enabled();

// Disables recording in its scope: EMA target updates, evaluation, optimizer steps.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when recording is on and some input requires a gradient.
bool needs_record(const std::vector<Tensor>& inputs);

// Attaches a Node to `out` when needs_record(inputs); returns `out`.
Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardFn backward);

// ∂L/∂input_i is wanted for input i of a node.
inline bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

void run_backward(const Tensor& root, const Tensor& grad);

}  // namespace bt
