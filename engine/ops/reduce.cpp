// Sums and means over dimensions, and sum_to (the adjoint of broadcasting).
// cpu: kernels/cpu/reduce, one axis at a time. simt/cuda: one launch of kernels/cuda/reduce
// (sum_dim0 when the summed dims lead, sum_dim1 when they trail; otherwise the kept dims are
// first permuted in front, a host copy on simt).
#include <algorithm>

#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cuda/reduce.h"

namespace bt {

using ops_detail::check_device_args;

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
    ops_detail::dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::sum_axis<T>(outer, axis, inner, cur.data<T>(), next.data<T>());
    });
    cur = next;
  }
  return cur;
}

// sum_keepdim on simt/cuda. x (kept..., summed...) after a permutation, viewed as a
// (rows = Π kept, cols = Π summed) matrix: out (rows) = Σ over each row, which is the keepdim
// result in row-major order because the kept dims keep their relative order.
Tensor sum_keepdim_device(const Tensor& x, const std::vector<int64_t>& dims) {
  const Device dev = x.device();
  Tensor xc = x.contiguous().detach();
  const Shape& s = xc.shape();
  Shape kept_shape = s, perm_shape, perm_strides, summed_shape, summed_strides;
  int64_t rows = 1, cols = 1;
  bool summed_lead = true, summed_trail = true;  // summed dims are a prefix / a suffix
  for (size_t i = 0; i < s.size(); ++i) {
    const bool summed = std::binary_search(dims.begin(), dims.end(), int64_t(i));
    (summed ? cols : rows) *= s[i];
    if (summed) {
      kept_shape[i] = 1;
      summed_shape.push_back(s[i]);
      summed_strides.push_back(xc.strides()[i]);
    } else {
      perm_shape.push_back(s[i]);
      perm_strides.push_back(xc.strides()[i]);
    }
    const bool before_all = int64_t(i) < int64_t(dims.size());  // i within the first |dims|
    const bool after_all = int64_t(i) >= int64_t(s.size() - dims.size());
    if (summed != before_all) summed_lead = false;
    if (summed != after_all) summed_trail = false;
  }
  Tensor out = Tensor::empty(kept_shape, DType::f32, dev);
  if (summed_lead && !summed_trail) {  // x is (cols, rows)
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      cuda::sum_dim0<B>(cols, rows, xc.data<float>(), 1.0f, out.data<float>(), nullptr);
    });
    return out;
  }
  if (!summed_trail) {  // permute to (kept..., summed...)
    perm_shape.insert(perm_shape.end(), summed_shape.begin(), summed_shape.end());
    perm_strides.insert(perm_strides.end(), summed_strides.begin(), summed_strides.end());
    Tensor permuted = Tensor::empty(perm_shape, DType::f32, dev);
    const Shape dst_strides = contiguous_strides(perm_shape);
    ops_detail::device_strided_copy(dev, int(perm_shape.size()), perm_shape.data(), xc.data<float>(),
                                    perm_strides.data(), permuted.data<float>(), dst_strides.data());
    xc = permuted;
  }
  ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
    using B = decltype(backend);
    cuda::sum_dim1<B>(rows, cols, xc.data<float>(), 1.0f, out.data<float>(), nullptr);
  });
  return out;
}

Shape drop_dims(const Shape& s, const std::vector<int64_t>& dims) {
  Shape out;
  for (size_t i = 0; i < s.size(); ++i)
    if (!std::binary_search(dims.begin(), dims.end(), int64_t(i))) out.push_back(s[i]);
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  const Device dev = check_device_args("sum", {x});
  const std::vector<int64_t> dims = normalize_dims(x, dims_in);
  Tensor out = dev == Device::cpu ? sum_keepdim(x, dims) : sum_keepdim_device(x, dims);
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
