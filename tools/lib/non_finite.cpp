#include "tools/lib/non_finite.h"

#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace bt::tools {

namespace {

// Σ x over all elements, a one-element tensor on x's device.
Tensor flat_sum(const Tensor& x) { return sum(x.reshape({x.numel()})); }

}  // namespace

std::optional<size_t> first_non_finite(const std::vector<Tensor>& tensors) {
  NoGradGuard no_grad;
  Tensor total;
  for (const Tensor& t : tensors) {
    if (!t.defined() || t.numel() == 0) continue;
    const Tensor s = flat_sum(t.detach()).to(DType::f32);
    total = total.defined() ? add(total, s) : s;
  }
  if (!total.defined() || std::isfinite(total.item())) return std::nullopt;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (t.defined() && t.numel() > 0 && !std::isfinite(flat_sum(mul(t.detach(), 0.0)).item())) return i;
  }
  return std::nullopt;  // the sums overflowed, every value is finite
}

}  // namespace bt::tools
