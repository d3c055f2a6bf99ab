// Elementwise ops with broadcasting; gradients reduce back to each input's shape (sum_to).
// cpu: kernels/cpu/elementwise. simt/cuda: the kernels of kernels/cuda/elementwise (same-shape
// maps): a broadcast operand is first materialised at the output's shape (pure data movement,
// a device copy kernel), then a map runs on the device. add(Tensor, double) also runs in float64
// there (device counters such as BatchNorm's num_batches_tracked); the rest is float32.
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cuda/elementwise.h"

namespace bt {

using ops_detail::check_device_args;

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    BT_CHECK(da == db || da == 1 || db == 1, "shapes ", shape_str(a), " and ", shape_str(b),
             " cannot be broadcast together");
    out[i] = std::max(da, db);
  }
  return out;
}

namespace {

// x's strides as seen from `out` shape: leading and stretched dimensions get stride 0.
Shape broadcast_strides(const Tensor& x, const Shape& out) {
  Shape s(out.size(), 0);
  const size_t lead = out.size() - x.shape().size();
  for (size_t i = 0; i < x.shape().size(); ++i)
    s[lead + i] = x.shape()[i] == 1 ? 0 : x.strides()[i];
  return s;
}

// A new contiguous float32 buffer on x's device holding x read at `shape` (broadcast dims
// repeated).
Tensor materialize(const Tensor& x, const Shape& shape) {
  Tensor out = Tensor::empty(shape, DType::f32, x.device());
  const Shape sx = broadcast_strides(x, shape), so = contiguous_strides(shape);
  ops_detail::device_strided_copy(x.device(), int(shape.size()), shape.data(), x.data<float>(), sx.data(),
                                  out.data<float>(), so.data());
  return out;
}

// x at `shape`, contiguous, without a copy when it already is.
Tensor at_shape(const Tensor& x, const Shape& shape) {
  return x.shape() == shape && x.is_contiguous() ? x.detach() : materialize(x, shape);
}

// out = a op b on simt/cuda.
Tensor device_binary(cpu::BinaryOp op, const Tensor& a, const Tensor& b,
                     const Shape& shape) {
  const Device dev = a.device();
  const int64_t n = shape_numel(shape);
  if (op == cpu::BinaryOp::sub) {  // out = a, then out = −1·b + 1·out
    Tensor out = materialize(a, shape), bc = at_shape(b, shape);
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      cuda::axpby<B>(n, -1.0f, bc.data<float>(), 1.0f, out.data<float>(), nullptr);
    });
    return out;
  }
  Tensor ac = at_shape(a, shape), bc = at_shape(b, shape);
  Tensor out = Tensor::empty(shape, DType::f32, dev);
  const float *pa = ac.data<float>(), *pb = bc.data<float>();
  float* po = out.data<float>();
  ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
    using B = decltype(backend);
    if (op == cpu::BinaryOp::add) cuda::add<B>(n, pa, pb, po, nullptr);
    else if (op == cpu::BinaryOp::mul) cuda::mul<B>(n, pa, pb, po, nullptr);
    else cuda::div<B>(n, pa, pb, po, nullptr);
  });
  return out;
}

// An nChw16c operand (engine/layout.h) as a contiguous NCHW copy, outside autograd.
Tensor strided(const Tensor& x) { return x.layout() == Layout::strided ? x : x.detach().contiguous(); }

Tensor binary_forward(cpu::BinaryOp op, const char* name, const Tensor& a_in, const Tensor& b_in) {
  const Device dev = check_device_args(name, {a_in, b_in});
  const Shape shape = broadcast_shapes(a_in.shape(), b_in.shape());
  if (dev != Device::cpu) return device_binary(op, a_in, b_in, shape);
  // Two nChw16c operands of one shape: elementwise in that layout. Otherwise in strided NCHW.
  const bool blocked = a_in.layout() == Layout::nChw16c && b_in.layout() == Layout::nChw16c &&
                       a_in.shape() == b_in.shape();
  const Tensor a = blocked ? a_in : strided(a_in), b = blocked ? b_in : strided(b_in);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device(), blocked ? Layout::nChw16c : Layout::strided);
  const Shape dense = contiguous_strides(shape);
  const Shape sa = blocked ? dense : broadcast_strides(a, shape), sb = blocked ? dense : broadcast_strides(b, shape);
  ops_detail::dispatch_dtype(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pa = blocked ? a.dense_data<T>() : a.data<T>();
    const T* pb = blocked ? b.dense_data<T>() : b.data<T>();
    cpu::binary<T>(op, int(shape.size()), shape.data(), pa, sa.data(), pb, sb.data(), out.dense_data<T>());
  });
  return out;
}

// y = op(x) on simt/cuda: neg and mul_scalar scale, add_scalar is y = x + fill(s) (float64:
// its own kernel), the others map.
Tensor device_unary(cpu::UnaryOp op, const char* name, const Tensor& x, double param) {
  const Device dev = x.device();
  Tensor xc = x.contiguous().detach();
  const int64_t n = x.numel();
  if (x.dtype() == DType::f64) {  // check_device_args let only add_scalar through
    Tensor out = Tensor::empty(x.shape(), DType::f64, dev);
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      cuda::add_scalar_f64<B>(n, xc.data<double>(), param, out.data<double>(), nullptr);
    });
    return out;
  }
  const float* px = xc.data<float>();
  if (op == cpu::UnaryOp::add_scalar) {
    Tensor out = Tensor::full(x.shape(), param, DType::f32, dev);
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      cuda::axpby<B>(n, 1.0f, px, 1.0f, out.data<float>(), nullptr);
    });
    return out;
  }
  Tensor out = Tensor::empty(x.shape(), DType::f32, dev);
  float* py = out.data<float>();
  const float p = float(param);
  ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
    using B = decltype(backend);
    switch (op) {
      case cpu::UnaryOp::relu:
        cuda::relu_forward<B>(n, px, py, nullptr);
        break;
      case cpu::UnaryOp::neg:
        cuda::scale<B>(n, -1.0f, px, py, nullptr);
        break;
      case cpu::UnaryOp::mul_scalar:
        cuda::scale<B>(n, p, px, py, nullptr);
        break;
      case cpu::UnaryOp::exp:
        cuda::exp_forward<B>(n, px, py, nullptr);
        break;
      case cpu::UnaryOp::log:
        cuda::log_forward<B>(n, px, py, nullptr);
        break;
      case cpu::UnaryOp::sqrt:
        cuda::sqrt_forward<B>(n, px, py, nullptr);
        break;
      case cpu::UnaryOp::pow:
        cuda::pow_scalar<B>(n, px, p, py, nullptr);
        break;
      default:
        ops_detail::no_kernel(name, dev);
    }
  });
  return out;
}

Tensor unary_forward(cpu::UnaryOp op, const char* name, const Tensor& x, double param = 0) {
  const bool f64_kernel = op == cpu::UnaryOp::add_scalar;  // cuda::add_scalar_f64
  if (check_device_args(name, {x}, f64_kernel) != Device::cpu) return device_unary(op, name, x, param);
  Tensor xc = x.dense().detach();  // either layout: the map goes over the storage
  Tensor out = Tensor::empty_like(xc);
  ops_detail::dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    cpu::unary<T>(op, x.numel(), xc.dense_data<T>(), out.dense_data<T>(), param);
  });
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(cpu::BinaryOp::add, "add", a, b);
  const Shape sa = a.shape(), sb = b.shape();
  return record(out, "add", {a, b}, [sa, sb](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
  });
}

void add_into(const Tensor& dst, const Tensor& src) {
  BT_CHECK(dst.shape() == src.shape() && dst.dtype() == src.dtype(), "add_into: ", shape_str(src.shape()), " ",
           dtype_name(src.dtype()), " into ", shape_str(dst.shape()), " ", dtype_name(dst.dtype()));
  if (dst.storage()) dst.storage()->drop_bf16_rounding();
  if (dst.device() != Device::cpu || src.device() != Device::cpu || !dst.is_dense() || !src.is_dense() ||
      dst.layout() != src.layout()) {
    NoGradGuard no_grad;
    dst.copy_(add(dst, src));
    return;
  }
  const Shape dense = contiguous_strides(dst.shape());
  ops_detail::dispatch_dtype(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* d = dst.dense_data<T>();  // out aliases a: elementwise, each element read before it is written
    cpu::binary<T>(cpu::BinaryOp::add, int(dst.dim()), dst.shape().data(), d, dense.data(), src.dense_data<T>(),
                   dense.data(), d);
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(cpu::BinaryOp::sub, "sub", a, b);
  const Shape sa = a.shape(), sb = b.shape();
  return record(out, "sub", {a, b}, [sa, sb](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(neg(g), sb)};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(cpu::BinaryOp::mul, "mul", a, b);
  return record(out, "mul", {a, b}, [a, b](const Tensor& g) {
    return std::vector<Tensor>{wants_grad(a) ? sum_to(mul(g, b), a.shape()) : Tensor(),
                               wants_grad(b) ? sum_to(mul(g, a), b.shape()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(cpu::BinaryOp::div, "div", a, b);
  return record(out, "div", {a, b}, [a, b, y = out.detach()](const Tensor& g) {
    // d(a/b)/da = 1/b, d(a/b)/db = −a/b² = −out/b
    Tensor ga = div(g, b);
    return std::vector<Tensor>{sum_to(ga, a.shape()),
                               wants_grad(b) ? sum_to(neg(mul(ga, y)), b.shape()) : Tensor()};
  });
}

Tensor add(const Tensor& a, double s) {
  Tensor out = unary_forward(cpu::UnaryOp::add_scalar, "add_scalar", a, s);
  return record(out, "add_scalar", {a}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor mul(const Tensor& a, double s) {
  Tensor out = unary_forward(cpu::UnaryOp::mul_scalar, "mul_scalar", a, s);
  return record(out, "mul_scalar", {a}, [s](const Tensor& g) { return std::vector<Tensor>{mul(g, s)}; });
}

Tensor neg(const Tensor& x) {
  Tensor out = unary_forward(cpu::UnaryOp::neg, "neg", x);
  return record(out, "neg", {x}, [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
}

namespace {

// g where y > 0, else 0: the gradient through a ReLU whose output is y (relu(x) > 0 exactly
// where x > 0, so the saved output serves as the mask).
// y is dense (either layout); dx comes in y's layout.
Tensor relu_backward(const Tensor& y, const Tensor& g) {
  Tensor gc = g.to(y.layout()).dense(), dx = Tensor::empty_like(y);
  if (g.device() == Device::cpu)
    ops_detail::dispatch_dtype(g.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::relu_backward<T>(g.numel(), y.dense_data<T>(), gc.dense_data<T>(), dx.dense_data<T>());
    });
  else
    ops_detail::dispatch_cuda_backend(g.device(), [&](auto backend) {
      using B = decltype(backend);
      cuda::relu_backward<B>(g.numel(), y.data<float>(), gc.data<float>(), dx.data<float>(), nullptr);
    });
  return dx;
}

}  // namespace

Tensor relu(const Tensor& x) {
  Tensor out = unary_forward(cpu::UnaryOp::relu, "relu", x);
  return record(out, "relu", {x}, [y = out.detach()](const Tensor& g) {
    return std::vector<Tensor>{relu_backward(y, g)};
  });
}

Tensor add_relu(const Tensor& a, const Tensor& b) {
  const Device dev = check_device_args("add_relu", {a, b});
  BT_CHECK(a.shape() == b.shape(), "add_relu: shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
           " differ");
  // Either in nChw16c (a residual block's two branches): both in that layout, so that the
  // block's output stays blocked (engine/layout.h); otherwise in NCHW.
  const bool blocked = a.layout() == Layout::nChw16c || b.layout() == Layout::nChw16c;
  Tensor ac = blocked ? a.detach().to(Layout::nChw16c) : strided(a).contiguous();
  Tensor bc = blocked ? b.detach().to(Layout::nChw16c) : strided(b).contiguous();
  Tensor y = Tensor::empty_like(ac);
  // Under --precision bf16 a block's blocked output comes with its bf16 rounding, which the next
  // block's bf16 convolutions read (engine/tensor.h).
  uint16_t* y_bf16 = ops_detail::writes_bf16_rounding(y) ? y.attach_bf16_rounding() : nullptr;
  if (dev == Device::cpu)
    ops_detail::dispatch_dtype(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::add_relu<T>(a.numel(), ac.dense_data<T>(), bc.dense_data<T>(), y.dense_data<T>(), y_bf16);
    });
  else
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      cuda::add_relu<B>(a.numel(), ac.data<float>(), bc.data<float>(), y.data<float>(), nullptr);
    });
  // ∂relu(a + b)/∂a = ∂/∂b = 1 where the output is positive.
  return record(y, "add_relu", {a, b}, [y = y.detach()](const Tensor& g) {
    const Tensor d = relu_backward(y, g);
    return std::vector<Tensor>{d, d};
  });
}

Tensor exp(const Tensor& x) {
  Tensor out = unary_forward(cpu::UnaryOp::exp, "exp", x);
  return record(out, "exp", {x}, [y = out.detach()](const Tensor& g) {
    return std::vector<Tensor>{mul(g, y)};
  });
}

Tensor log(const Tensor& x) {
  Tensor out = unary_forward(cpu::UnaryOp::log, "log", x);
  return record(out, "log", {x}, [x](const Tensor& g) { return std::vector<Tensor>{div(g, x)}; });
}

Tensor sqrt(const Tensor& x) {
  Tensor out = unary_forward(cpu::UnaryOp::sqrt, "sqrt", x);
  return record(out, "sqrt", {x}, [y = out.detach()](const Tensor& g) {  // d√x = 1 / (2√x)
    return std::vector<Tensor>{div(mul(g, 0.5), y)};
  });
}

Tensor pow(const Tensor& x, double p) {
  Tensor out = unary_forward(cpu::UnaryOp::pow, "pow", x, p);
  return record(out, "pow", {x}, [x, p](const Tensor& g) {  // d xᵖ = p xᵖ⁻¹
    return std::vector<Tensor>{mul(g, mul(pow(x, p - 1), p))};
  });
}

}  // namespace bt
