// Sums and means over dimensions, and sum_to (the adjoint of broadcasting).
#include <algorithm>

#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/reduce.h"

namespace bt {

using ops_detail::check_args;

namespace {

// Sorted, unique, non-negative dims; empty `dims` means all of them.
std::vector<int64_t> normalize_dims(const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t n = x.dim();
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < n; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) {
    BT_CHECK(d >= -n && d < n, "sum: dimension ", d, " out of range for shape ", shape_str(x.shape()));
    out.push_back(d < 0 ? d + n : d);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Sum over `dims`, keeping them as size 1, outside autograd.
Tensor sum_keepdim(const Tensor& x, const std::vector<int64_t>& dims) {
  Tensor cur = x.contiguous().detach();
  for (int64_t d : dims) {
    Shape s = cur.shape();
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < d; ++i) outer *= s[i];
    for (size_t i = d + 1; i < s.size(); ++i) inner *= s[i];
    const int64_t axis = s[d];
    s[d] = 1;
    Tensor next = Tensor::empty(s, x.dtype(), x.device());
    BT_DISPATCH(x.dtype(), T, cpu::sum_axis<T>(outer, axis, inner, cur.data<T>(), next.data<T>()));
    cur = next;
  }
  return cur;
}

Shape drop_dims(const Shape& s, const std::vector<int64_t>& dims) {
  Shape out;
  for (size_t i = 0; i < s.size(); ++i)
    if (!std::binary_search(dims.begin(), dims.end(), int64_t(i))) out.push_back(s[i]);
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  check_args("sum", {x});
  const std::vector<int64_t> dims = normalize_dims(x, dims_in);
  Tensor out = sum_keepdim(x, dims);
  Shape kept = out.shape();
  if (!keepdim) out = out.reshape(drop_dims(kept, dims));
  const Shape in_shape = x.shape();
  // The gradient of a sum broadcasts back over the summed dimensions.
  return record(out, "sum", {x}, [in_shape, kept](const Tensor& g) {
    Tensor gk = g.reshape(kept);
    return std::vector<Tensor>{add(Tensor::zeros(in_shape, g.dtype(), g.device()), gk)};
  });
}

Tensor sum(const Tensor& x) { return sum(x, {}, false); }

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  const std::vector<int64_t> dims = normalize_dims(x, dims_in);
  int64_t count = 1;
  for (int64_t d : dims) count *= x.shape()[d];
  BT_CHECK(count > 0, "mean over an empty dimension of shape ", shape_str(x.shape()));
  return mul(sum(x, dims, keepdim), 1.0 / double(count));
}

Tensor mean(const Tensor& x) { return mean(x, {}, false); }

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const size_t lead = x.shape().size() - shape.size();
  BT_CHECK(x.shape().size() >= shape.size(), "sum_to: cannot reduce ", shape_str(x.shape()),
           " to ", shape_str(shape));
  std::vector<int64_t> dims;
  for (size_t i = 0; i < x.shape().size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && x.shape()[i] != 1)) dims.push_back(int64_t(i));
  return sum(x, dims, true).reshape(shape);
}

}  // namespace bt
