#pragma once
// Tensor: a cheap handle to TensorImpl {shape, strides, offset, dtype, storage, autograd state}.
// Row-major; views (reshape of contiguous data, transpose, slice) share storage.
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/dtype.h"
#include "engine/error.h"
#include "engine/layout.h"

namespace bt {

// A block of device memory from the device's caching allocator.
class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

  // The bf16 rounding of this float32 storage's elements, element for element (kernels/cpu/bf16.h),
  // that the op which wrote them wrote beside them for the bf16 convolutions that will read them
  // (engine/precision.h); nullptr when there is none. Every in-place write of the engine
  // (Tensor::copy_, Tensor::fill_, add_into) drops it, so that it never goes stale.
  const uint16_t* bf16_rounding() const { return bf16_ ? static_cast<const uint16_t*>(bf16_->data()) : nullptr; }
  // Attaches an uninitialised buffer of bytes()/4 bf16 values (cpu) and returns it to be filled.
  uint16_t* attach_bf16_rounding();
  void drop_bf16_rounding() { bf16_.reset(); }

 private:
  void* ptr_;
  size_t bytes_;
  Device device_;
  std::unique_ptr<Storage> bf16_;
};

struct Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation ----
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu,
                      Layout layout = Layout::strided);
  // An uninitialised tensor of t's shape, dtype, device and layout (strided ones contiguous).
  static Tensor empty_like(const Tensor& t);
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32,
                     Device device = Device::cpu);
  // A CPU tensor holding `values` (converted to dtype); values.size() must equal numel(shape).
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape,
                            DType dtype = DType::f32);
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape);

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  const Shape& strides() const;  // strided layout only
  Layout layout() const;
  int64_t offset() const;
  int64_t dim() const;
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;  // strided, row-major, no gaps (never true of nChw16c)
  // Elements fill the storage from offset() in the order of the layout: contiguous or nChw16c.
  bool is_dense() const;
  const std::shared_ptr<Storage>& storage() const;
  // Whether this handle is the only one to its TensorImpl and that the only one over its storage
  // (no copy of the handle, view or detached alias can see the buffer): it may then be
  // overwritten in place unnoticed. Single-threaded use (autograd) only.
  bool is_sole_handle() const;
  TensorImpl* impl() const { return impl_.get(); }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

  // Pointer to the first element; checks that T matches dtype() and the layout is strided.
  template <class T> T* data() const;
  // The same for a dense tensor of either layout (kernels that know the layout).
  template <class T> T* dense_data() const;
  void* raw_data() const;
  // The bf16 rounding of a float32 cpu tensor that fills its whole storage densely
  // (Storage::bf16_rounding), in the tensor's layout; nullptr when there is none or the tensor
  // is a view of part of its storage.
  const uint16_t* bf16_rounding() const;
  // For the kernel that writes such a tensor: attaches a bf16 buffer to fill beside it.
  uint16_t* attach_bf16_rounding() const;

  // ---- copies and conversions (differentiable) ----
  Tensor contiguous() const;  // strided and contiguous; reorders nChw16c into NCHW
  Tensor dense() const;       // itself when dense (either layout), else contiguous()
  Tensor clone() const;
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  Tensor to(Layout layout) const;  // to nChw16c: a CPU (N, C, H, W) tensor with C % 16 == 0
  double item() const;  // a one-element tensor's value
  std::vector<double> to_vector() const;  // a contiguous copy in float64

  // ---- views (differentiable) ----
  Tensor reshape(const Shape& shape) const;  // one dim may be -1; copies if not contiguous
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor slice(int64_t dim, int64_t start, int64_t end) const;  // [start, end) along dim
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  void zero_grad() const;  // drops the gradient
  // Backpropagates from this tensor. Without an argument it must hold one element.
  void backward(const Tensor& grad = Tensor()) const;
  Tensor detach() const;  // shares storage, no history: the stop-gradient of BYOL/SimSiam
  const std::shared_ptr<Node>& grad_fn() const;
  bool is_leaf() const;

  // ---- in place, outside autograd (optimizers, init, EMA) ----
  void copy_(const Tensor& src) const;  // same shape; converts dtype, crosses devices
  void fill_(double value) const;

 private:
  TensorImpl* checked() const {
    BT_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return impl_.get();
  }
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  Shape shape;
  Shape strides;  // in elements
  int64_t offset = 0;
  DType dtype = DType::f32;
  std::shared_ptr<Storage> storage;
  Layout layout = Layout::strided;
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
};

Shape contiguous_strides(const Shape& shape);
// Copies a byte range between devices (engine/device.h: cpu is host memory, simt the emulator's
// device arena, cuda the GPU).
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

template <class T>
T* Tensor::data() const {
  BT_CHECK(defined(), "data() of an undefined tensor");
  BT_CHECK(dtype() == dtype_of<T>(), "data<", dtype_name(dtype_of<T>()), ">() of a ",
           dtype_name(dtype()), " tensor");
  BT_CHECK(layout() == Layout::strided, "data() of an nChw16c tensor: read it through contiguous() (engine/layout.h)");
  return static_cast<T*>(raw_data());
}

template <class T>
T* Tensor::dense_data() const {
  BT_CHECK(defined() && is_dense(), "dense_data() of a strided view; take dense() first");
  BT_CHECK(dtype() == dtype_of<T>(), "data<", dtype_name(dtype_of<T>()), ">() of a ",
           dtype_name(dtype()), " tensor");
  return static_cast<T*>(raw_data());
}

}  // namespace bt
