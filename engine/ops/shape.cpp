// cat: joins tensors along a dimension; its gradient is the matching slices. Pure data
// movement (Tensor::copy_ into slices of the output), so it runs on every device.
#include "engine/ops.h"
#include "engine/ops/dispatch.h"

namespace bt {

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  BT_CHECK(!xs.empty(), "cat: no tensors");
  ops_detail::check_device_args("cat", xs);
  const Tensor& first = xs[0];
  const int64_t n = first.dim();
  BT_CHECK(dim >= -n && dim < n, "cat: dimension ", dim, " out of range for shape ",
           shape_str(first.shape()));
  const int64_t d = dim < 0 ? dim + n : dim;
  Shape shape = first.shape();
  shape[d] = 0;
  for (const Tensor& x : xs) {
    Shape expect = first.shape();
    expect[d] = x.dim() == n ? x.shape()[d] : -1;
    BT_CHECK(x.shape() == expect, "cat: shape ", shape_str(x.shape()), " does not match ",
             shape_str(first.shape()), " outside dimension ", d);
    shape[d] += x.shape()[d];
  }
  Tensor out = Tensor::empty(shape, first.dtype(), first.device());
  std::vector<int64_t> starts;
  int64_t at = 0;
  for (const Tensor& x : xs) {
    starts.push_back(at);
    out.detach().slice(d, at, at + x.shape()[d]).copy_(x);
    at += x.shape()[d];
  }
  starts.push_back(at);
  return record(out, "cat", xs, [starts, d](const Tensor& g) {
    std::vector<Tensor> grads;
    for (size_t i = 0; i + 1 < starts.size(); ++i) grads.push_back(g.slice(d, starts[i], starts[i + 1]));
    return grads;
  });
}

}  // namespace bt
