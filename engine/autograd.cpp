#include "engine/autograd.h"

#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include "engine/op_profile.h"
#include "engine/ops.h"

namespace bt {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }

NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

bool needs_record(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (wants_grad(t)) return true;
  return false;
}

Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardFn backward) {
  if (op_profile::enabled()) op_profile::mark_forward(name);
  if (!needs_record(inputs)) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  out.impl()->requires_grad = true;
  out.impl()->grad_fn = std::move(node);
  return out;
}

namespace {

// Nodes reachable from root, ordered so that every node comes before the nodes of its inputs.
std::vector<Node*> topological_order(Node* root) {
  std::vector<Node*> post;  // post-order: inputs first
  std::unordered_set<Node*> seen{root};
  std::vector<std::pair<Node*, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const Tensor& input = node->inputs[next++];
      Node* child = input.defined() ? input.grad_fn().get() : nullptr;
      if (child != nullptr && seen.insert(child).second) stack.push_back({child, 0});
    } else {
      post.push_back(node);
      stack.pop_back();
    }
  }
  return {post.rbegin(), post.rend()};
}

// A leaf's gradient is its own buffer: the first one arriving is taken as it is where nothing
// else can see it (Tensor::is_sole_handle), else copied; later ones are added into it.
void accumulate_leaf(const Tensor& leaf, Tensor g) {
  Tensor current = leaf.grad();
  if (current.defined()) add_into(current, g);
  else leaf.set_grad(g.is_sole_handle() && g.is_dense() ? std::move(g) : g.clone());
}

// slot += g for a node's pending gradient: in place where nothing else can see the slot's
// buffer, else into a new one (two inputs of one node often receive one tensor, e.g. add's
// backward returns g twice: it may then not be written).
void accumulate_pending(Tensor& slot, Tensor g) {
  if (!slot.defined()) slot = std::move(g);
  else if (slot.is_sole_handle()) add_into(slot, g);
  else slot = add(slot, g);
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad) {
  BT_CHECK(root.requires_grad(), "backward() on a tensor that does not require grad");
  Tensor g = grad;
  if (!g.defined()) {
    BT_CHECK(root.numel() == 1, "backward() without a gradient needs a one-element tensor, got shape ",
             shape_str(root.shape()));
    g = Tensor::ones(root.shape(), root.dtype(), root.device());
  }
  BT_CHECK(g.shape() == root.shape(), "backward(): gradient shape ", shape_str(g.shape()),
           " does not match tensor shape ", shape_str(root.shape()));
  NoGradGuard no_grad;
  op_profile::BackwardScope profiled_backward;
  g = g.to(root.layout());  // every gradient is kept in its tensor's layout (engine/layout.h)
  if (root.is_leaf()) {
    accumulate_leaf(root, g);
    return;
  }
  std::unordered_map<Node*, Tensor> pending{{root.grad_fn().get(), g}};
  for (Node* node : topological_order(root.grad_fn().get())) {
    auto it = pending.find(node);
    if (it == pending.end()) continue;
    Tensor grad_out = std::move(it->second);
    pending.erase(it);
    const bool profiling = op_profile::enabled();  // no clock reads on the unprofiled path
    const auto start = profiling ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    std::vector<Tensor> grads = node->backward(grad_out);
    if (profiling)
      op_profile::add_backward(node->name.c_str(),
                               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      const Tensor& input = node->inputs[i];
      if (!wants_grad(input) || i >= grads.size() || !grads[i].defined()) continue;
      BT_CHECK(grads[i].shape() == input.shape(), "backward of ", node->name, ": gradient ",
               shape_str(grads[i].shape()), " for input ", i, " of shape ",
               shape_str(input.shape()));
      Tensor gi = std::move(grads[i]);  // moved, so that the vector holds no second handle
      if (gi.layout() != input.layout()) gi = gi.to(input.layout());
      if (input.is_leaf()) accumulate_leaf(input, std::move(gi));
      else accumulate_pending(pending[input.grad_fn().get()], std::move(gi));
    }
  }
}

}  // namespace bt
