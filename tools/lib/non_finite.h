#pragma once
// Finding NaN and ±inf among a model's tensors (its gradients, its parameters) after every step,
// cheaply: one sum per tensor on the tensors' own device, the sums added there into one scalar,
// one value read back (no tensor is copied to the host). A sum is finite whenever every element
// is, unless it overflows, so a non-finite total is then confirmed tensor by tensor with an exact
// test: Σ x·0 is 0 when every x is finite and NaN when some x is NaN or ±inf (inf·0 = NaN).
#include <optional>
#include <vector>

#include "engine/tensor.h"

namespace bt::tools {

// The index of the first of `tensors` holding a NaN or ±inf; nullopt when every value is finite.
// Undefined tensors (a parameter without a gradient) are skipped.
std::optional<size_t> first_non_finite(const std::vector<Tensor>& tensors);

}  // namespace bt::tools
