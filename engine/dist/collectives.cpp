#include "engine/dist/collectives.h"

#include <algorithm>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace bt::dist {

Tensor all_reduce_sum(const Tensor& x, ProcessGroup& group) {
  Tensor y = x.detach().contiguous().clone();
  group.all_reduce_sum_(y);
  ProcessGroup* g = &group;
  return record(y, "all_reduce_sum", {x}, [g](const Tensor& grad) {
    Tensor total = grad.contiguous().clone();
    g->all_reduce_sum_(total);
    return std::vector<Tensor>{total};
  });
}

Tensor all_gather(const Tensor& x, ProcessGroup& group) {
  Tensor y = group.all_gather(x.detach().contiguous());
  ProcessGroup* g = &group;
  const int64_t n = x.size(0);
  return record(y, "all_gather", {x}, [g, n](const Tensor& grad) {
    Tensor total = grad.contiguous().clone();
    g->all_reduce_sum_(total);
    const int64_t begin = int64_t(g->rank()) * n;
    return std::vector<Tensor>{total.slice(0, begin, begin + n).contiguous()};
  });
}

void average_gradients(const std::vector<Tensor>& params, ProcessGroup& group, size_t bucket_bytes) {
  if (group.world_size() == 1 || params.empty()) return;
  NoGradGuard no_grad;
  const Device device = params.front().device();
  const double scale = 1.0 / double(group.world_size());
  const size_t bucket_floats = std::max<size_t>(1, bucket_bytes / sizeof(float));
  size_t first = 0;
  while (first < params.size()) {
    // The bucket: params [first, last), at least one, at most bucket_floats unless one is bigger.
    size_t last = first, floats = 0;
    while (last < params.size() && (last == first || floats + size_t(params[last].numel()) <= bucket_floats))
      floats += size_t(params[last++].numel());
    Tensor flat = Tensor::zeros({int64_t(floats)}, DType::f32, device);
    int64_t at = 0;
    for (size_t i = first; i < last; ++i) {
      const int64_t n = params[i].numel();
      const Tensor g = params[i].grad();
      if (g.defined()) flat.slice(0, at, at + n).copy_(g.reshape({n}));
      at += n;
    }
    group.all_reduce_sum_(flat);
    Tensor averaged = mul(flat, scale);
    at = 0;
    for (size_t i = first; i < last; ++i) {
      const int64_t n = params[i].numel();
      params[i].set_grad(averaged.slice(0, at, at + n).reshape(params[i].shape()).contiguous());
      at += n;
    }
    first = last;
  }
}

void broadcast_tensors(const std::vector<Tensor>& tensors, ProcessGroup& group) {
  if (group.world_size() == 1) return;
  NoGradGuard no_grad;
  for (const Tensor& t : tensors) {
    // A contiguous tensor is received in place (detach shares its storage); others via a copy.
    const bool in_place = t.is_contiguous();
    Tensor staged = in_place ? t.detach() : t.detach().contiguous();
    group.broadcast_(staged, 0);
    if (!in_place) t.copy_(staged);
  }
}

void broadcast_module(nn::Module& module, ProcessGroup& group) {
  broadcast_tensors(module.parameters(), group);
  broadcast_tensors(module.buffers(), group);
}

}  // namespace bt::dist
