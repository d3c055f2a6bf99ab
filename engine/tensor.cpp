#include "engine/tensor.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <sstream>

#include "engine/allocator.h"
#include "engine/autograd.h"
#include "engine/device.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/channel_layout.h"
#include "kernels/cpu/elementwise.h"

namespace bt {

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << (s.size() == 1 ? ",)" : ")");
  return os.str();
}

int64_t shape_numel(const Shape& s) {
  return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<>());
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

// ---------------------------------------------------------------- storage and device copies

Storage::Storage(size_t bytes, Device device)
    : ptr_(allocator(device).allocate(bytes)), bytes_(bytes), device_(device) {}

Storage::~Storage() { allocator(device_).deallocate(ptr_, bytes_); }

uint16_t* Storage::attach_bf16_rounding() {
  BT_CHECK(device_ == Device::cpu && bytes_ % sizeof(float) == 0, "attach_bf16_rounding: a cpu float32 storage only");
  bf16_ = std::make_unique<Storage>(bytes_ / 2, Device::cpu);
  return static_cast<uint16_t*>(bf16_->data());
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  device_calls::memcpy(dst, dst_device, src, src_device, bytes);
}

// ---------------------------------------------------------------- creation

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device, Layout layout) {
  for (int64_t d : shape) BT_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
  BT_CHECK(layout == Layout::strided || (shape.size() == 4 && shape[1] % cpu::kChannelBlock == 0 && device == Device::cpu),
           "an nChw16c tensor is a cpu (N, C, H, W) tensor with C a multiple of 16, not ", shape_str(shape),
           " on ", device_name(device));
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->layout = layout;
  impl->dtype = dtype;
  impl->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  return Tensor(std::move(impl));
}

Tensor Tensor::empty_like(const Tensor& t) { return empty(t.shape(), t.dtype(), t.device(), t.layout()); }

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}

Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape, DType dtype) {
  BT_CHECK(int64_t(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
           " values for shape ", shape_str(shape));
  Tensor t = empty(shape, dtype);
  if (dtype == DType::f64) std::copy(values.begin(), values.end(), t.data<double>());
  else std::transform(values.begin(), values.end(), t.data<float>(), [](double v) { return float(v); });
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape) {
  BT_CHECK(int64_t(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
           " values for shape ", shape_str(shape));
  Tensor t = empty(shape, DType::f32);
  std::copy(values.begin(), values.end(), t.data<float>());
  return t;
}

// ---------------------------------------------------------------- metadata

const Shape& Tensor::shape() const { return checked()->shape; }
const Shape& Tensor::strides() const {
  BT_CHECK(checked()->layout == Layout::strided,
           "strides() of an nChw16c tensor: read it through contiguous() (engine/layout.h)");
  return impl_->strides;
}
Layout Tensor::layout() const { return checked()->layout; }
int64_t Tensor::offset() const { return checked()->offset; }
int64_t Tensor::dim() const { return int64_t(shape().size()); }
int64_t Tensor::numel() const { return shape_numel(shape()); }
DType Tensor::dtype() const { return checked()->dtype; }
Device Tensor::device() const { return checked()->storage->device(); }
const std::shared_ptr<Storage>& Tensor::storage() const { return checked()->storage; }
bool Tensor::requires_grad() const { return checked()->requires_grad; }
Tensor Tensor::grad() const { return checked()->grad; }
const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked()->grad_fn; }

int64_t Tensor::size(int64_t d) const {
  const int64_t n = dim();
  BT_CHECK(d >= -n && d < n, "dimension ", d, " out of range for shape ", shape_str(shape()));
  return shape()[d < 0 ? d + n : d];
}

bool Tensor::is_contiguous() const {
  if (layout() != Layout::strided) return false;
  const Shape& s = shape();
  int64_t expected = 1;
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i] != 1 && strides()[i] != expected) return false;
    expected *= s[i];
  }
  return true;
}

bool Tensor::is_dense() const { return layout() == Layout::nChw16c || is_contiguous(); }

bool Tensor::is_sole_handle() const {
  return impl_ && impl_.use_count() == 1 && impl_->storage && impl_->storage.use_count() == 1;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(storage()->data()) + offset() * dtype_size(dtype());
}

namespace {
bool fills_storage_densely(const Tensor& t) {
  return t.device() == Device::cpu && t.dtype() == DType::f32 && t.is_dense() && t.offset() == 0 &&
         size_t(t.numel()) * sizeof(float) == t.storage()->bytes();
}
}  // namespace

const uint16_t* Tensor::bf16_rounding() const {
  return fills_storage_densely(*this) ? storage()->bf16_rounding() : nullptr;
}

uint16_t* Tensor::attach_bf16_rounding() const {
  BT_CHECK(fills_storage_densely(*this), "attach_bf16_rounding: a dense float32 cpu tensor over its whole storage only");
  return storage()->attach_bf16_rounding();
}

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

// ---------------------------------------------------------------- autograd state

Tensor& Tensor::requires_grad_(bool on) {
  BT_CHECK(is_leaf() || on, "requires_grad_(false) on a non-leaf tensor; use detach()");
  impl_->requires_grad = on;
  return *this;
}

void Tensor::set_grad(const Tensor& g) const {
  BT_CHECK(!g.defined() || g.shape() == shape(), "set_grad: gradient shape ", shape_str(g.shape()),
           " does not match tensor shape ", shape_str(shape()));
  impl_->grad = g;
}

void Tensor::zero_grad() const { impl_->grad = Tensor(); }

void Tensor::backward(const Tensor& grad) const { run_backward(*this, grad); }

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape();
  impl->strides = impl_->strides;
  impl->offset = offset();
  impl->layout = layout();
  impl->dtype = dtype();
  impl->storage = storage();
  return Tensor(std::move(impl));
}

// ---------------------------------------------------------------- copies

namespace {

// dst (src's shape, dst's dtype and strides) = src (any strides), on the host.
void host_copy_into(const Tensor& src, void* dst, DType dst_dtype, const int64_t* ds) {
  const int nd = int(src.dim());
  const int64_t* shape = src.shape().data();
  const int64_t* ss = src.strides().data();
  if (src.dtype() == DType::f32 && dst_dtype == DType::f32)
    cpu::strided_copy(nd, shape, src.data<float>(), ss, static_cast<float*>(dst), ds);
  else if (src.dtype() == DType::f32)
    cpu::strided_copy(nd, shape, src.data<float>(), ss, static_cast<double*>(dst), ds);
  else if (dst_dtype == DType::f32)
    cpu::strided_copy(nd, shape, src.data<double>(), ss, static_cast<float*>(dst), ds);
  else
    cpu::strided_copy(nd, shape, src.data<double>(), ss, static_cast<double*>(dst), ds);
}

// A contiguous copy of src with the given dtype and device, outside autograd.
Tensor copy_as(const Tensor& src, DType dtype, Device device) {
  Tensor out = Tensor::empty(src.shape(), dtype, device);
  out.copy_(src);
  return out;
}

// dst = src, both dense CPU (N, C, H, W) tensors of one dtype, one of them nChw16c.
void reorder_into(const Tensor& src, const Tensor& dst) {
  const int64_t N = src.size(0), C = src.size(1), HW = src.size(2) * src.size(3);
  const bool to_blocked = dst.layout() == Layout::nChw16c;
  ops_detail::dispatch_dtype(src.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (to_blocked) cpu::nchw_to_nChw16c<T>(N, C, HW, src.dense_data<T>(), dst.dense_data<T>());
    else cpu::nChw16c_to_nchw<T>(N, C, HW, src.dense_data<T>(), dst.dense_data<T>());
  });
}

// A copy of src in `layout` (strided: contiguous), outside autograd.
Tensor copy_in_layout(const Tensor& src, Layout layout) {
  Tensor out = Tensor::empty(src.shape(), src.dtype(), src.device(), layout);
  out.copy_(src);
  return out;
}

}  // namespace

// simt and cuda memory is reached only through copy_bytes (engine/device.h): host loops run on
// cpu tensors, strided copies on a device run its strided_copy kernel (float32).
void Tensor::copy_(const Tensor& src) const {
  BT_CHECK(src.shape() == shape(), "copy_: source shape ", shape_str(src.shape()),
           " does not match destination shape ", shape_str(shape()));
  if (numel() == 0) return;
  storage()->drop_bf16_rounding();
  if (layout() != Layout::strided || src.layout() != Layout::strided) {  // nChw16c: cpu only
    if (layout() == src.layout() && dtype() == src.dtype()) {
      std::memcpy(raw_data(), src.raw_data(), size_t(numel()) * dtype_size(dtype()));
    } else if (layout() == Layout::strided) {  // from nChw16c
      Tensor plain = Tensor::empty(shape(), src.dtype(), Device::cpu);
      reorder_into(src, plain);
      copy_(plain);
    } else {  // into nChw16c
      const Tensor plain = src.is_contiguous() && src.dtype() == dtype() && src.device() == Device::cpu
                               ? src
                               : copy_as(src, dtype(), Device::cpu);
      reorder_into(plain, *this);
    }
    return;
  }
  const Device dst_dev = device(), src_dev = src.device();
  if (dst_dev == Device::cpu && src_dev == Device::cpu) {  // any dtypes and strides
    host_copy_into(src, raw_data(), dtype(), strides().data());
    return;
  }
  if (is_contiguous() && src.is_contiguous() && dtype() == src.dtype()) {  // one memcpy, any devices
    copy_bytes(raw_data(), dst_dev, src.raw_data(), src_dev, size_t(numel()) * dtype_size(dtype()));
    return;
  }
  const bool f32 = dtype() == DType::f32 && src.dtype() == DType::f32;
  if (dst_dev == src_dev && f32) {  // strides within simt or cuda: a kernel
    ops_detail::device_strided_copy(dst_dev, int(dim()), shape().data(), src.data<float>(), src.strides().data(),
                                    data<float>(), strides().data());
    return;
  }
  // Otherwise convert the dtype on the host and move strides with a device kernel (float32 only).
  if (src_dev != Device::cpu && !src.is_contiguous()) {
    BT_CHECK(src.dtype() == DType::f32, "copy_: a non-contiguous ", dtype_name(src.dtype()), " tensor on device ",
             device_name(src_dev), " (strided device copies are float32)");
    copy_(copy_as(src, src.dtype(), src_dev));  // packed on its device first
    return;
  }
  if (dst_dev != Device::cpu && !is_contiguous()) {
    BT_CHECK(dtype() == DType::f32, "copy_ into a non-contiguous ", dtype_name(dtype()), " tensor on device ",
             device_name(dst_dev), " (strided device copies are float32)");
    copy_(copy_as(src, dtype(), dst_dev));  // contiguous on this device, then a kernel
    return;
  }
  // Both sides contiguous where they are on a device: through a host tensor of the other dtype.
  const Tensor host = copy_as(src, src_dev == Device::cpu ? dtype() : src.dtype(), Device::cpu);
  if (dst_dev == Device::cpu) {
    host_copy_into(host, raw_data(), dtype(), strides().data());
    return;
  }
  copy_(host);
}

void Tensor::fill_(double value) const {
  if (storage()) storage()->drop_bf16_rounding();
  if (device() != Device::cpu || !is_contiguous()) {
    copy_(Tensor::full(shape(), value, dtype(), Device::cpu));
    return;
  }
  const int64_t n = numel();
  if (dtype() == DType::f32) std::fill_n(data<float>(), n, float(value));
  else std::fill_n(data<double>(), n, value);
}

// The gradient of a copy is the incoming gradient itself; run_backward puts it into the
// source's layout.
Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  Tensor out = copy_as(*this, dtype(), device());
  return record(out, "contiguous", {*this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor Tensor::dense() const { return is_dense() ? *this : contiguous(); }

Tensor Tensor::clone() const {
  Tensor out = copy_in_layout(*this, layout());
  return record(out, "clone", {*this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor Tensor::to(Layout layout) const {
  if (layout == this->layout()) return *this;
  if (layout == Layout::strided) return contiguous();
  Tensor out = copy_in_layout(*this, layout);
  return record(out, "to_layout", {*this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  if (layout() != Layout::strided) return contiguous().to(device);
  const Device from = this->device();
  Tensor out = copy_as(*this, dtype(), device);
  return record(out, "to_device", {*this}, [from](const Tensor& g) { return std::vector<Tensor>{g.to(from)}; });
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  const DType from = this->dtype();
  Tensor out = copy_as(*this, dtype, device());
  return record(out, "to_dtype", {*this}, [from](const Tensor& g) { return std::vector<Tensor>{g.to(from)}; });
}

double Tensor::item() const {
  BT_CHECK(numel() == 1, "item() of a tensor with shape ", shape_str(shape()));
  return to_vector()[0];
}

std::vector<double> Tensor::to_vector() const {
  Tensor host = device() == Device::cpu && layout() == Layout::strided ? *this : copy_as(*this, dtype(), Device::cpu);
  std::vector<double> out(numel());
  host_copy_into(host, out.data(), DType::f64, contiguous_strides(shape()).data());
  return out;
}

// ---------------------------------------------------------------- views

namespace {
Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  impl->storage = base.storage();
  return Tensor(std::move(impl));
}

int64_t wrap_dim(int64_t d, int64_t ndim, const Shape& shape) {
  BT_CHECK(d >= -ndim && d < ndim, "dimension ", d, " out of range for shape ", shape_str(shape));
  return d < 0 ? d + ndim : d;
}
}  // namespace

Tensor Tensor::reshape(const Shape& new_shape) const {
  Shape s = new_shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      BT_CHECK(infer < 0, "reshape: more than one -1 in ", shape_str(new_shape));
      infer = int64_t(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    BT_CHECK(known > 0 && numel() % known == 0, "reshape: cannot reshape ", shape_str(shape()),
             " into ", shape_str(new_shape));
    s[infer] = numel() / known;
  }
  BT_CHECK(shape_numel(s) == numel(), "reshape: cannot reshape ", shape_str(shape()), " (",
           numel(), " elements) into ", shape_str(new_shape));
  Tensor src = contiguous();
  Tensor out = make_view(src, s, contiguous_strides(s), src.offset());
  const Shape in_shape = shape();
  return record(out, "reshape", {src}, [in_shape](const Tensor& g) {
    return std::vector<Tensor>{g.reshape(in_shape)};
  });
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  const int64_t n = dim();
  if (n == 0) return reshape({1});
  const int64_t a = wrap_dim(start_dim, n, shape()), b = wrap_dim(end_dim, n, shape());
  BT_CHECK(a <= b, "flatten: start_dim ", start_dim, " after end_dim ", end_dim);
  Shape s(shape().begin(), shape().begin() + a);
  int64_t merged = 1;
  for (int64_t i = a; i <= b; ++i) merged *= shape()[i];
  s.push_back(merged);
  s.insert(s.end(), shape().begin() + b + 1, shape().end());
  return reshape(s);
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  if (layout() != Layout::strided) return contiguous().transpose(d0, d1);
  const int64_t n = dim();
  d0 = wrap_dim(d0, n, shape());
  d1 = wrap_dim(d1, n, shape());
  Shape s = shape(), st = strides();
  std::swap(s[d0], s[d1]);
  std::swap(st[d0], st[d1]);
  Tensor out = make_view(*this, s, st, offset());
  return record(out, "transpose", {*this}, [d0, d1](const Tensor& g) {
    return std::vector<Tensor>{g.transpose(d0, d1)};
  });
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end) const {
  if (layout() != Layout::strided) return contiguous().slice(d, start, end);
  d = wrap_dim(d, dim(), shape());
  BT_CHECK(0 <= start && start <= end && end <= shape()[d], "slice [", start, ", ", end,
           ") out of range for dimension ", d, " of shape ", shape_str(shape()));
  Shape s = shape();
  s[d] = end - start;
  Tensor out = make_view(*this, s, strides(), offset() + start * strides()[d]);
  const Shape in_shape = shape();
  const DType dt = dtype();
  const Device dev = device();
  return record(out, "slice", {*this}, [=](const Tensor& g) {
    Tensor full = Tensor::zeros(in_shape, dt, dev);
    make_view(full, g.shape(), full.strides(), start * full.strides()[d]).copy_(g);
    return std::vector<Tensor>{full};
  });
}

}  // namespace bt
