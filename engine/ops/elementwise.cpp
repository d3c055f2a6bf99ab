// Elementwise ops with broadcasting; gradients reduce back to each input's shape (sum_to).
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/elementwise.h"

namespace bt {

using ops_detail::check_args;

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

Tensor binary_forward(cpu::BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  check_args(name, {a, b});
  const Shape shape = broadcast_shapes(a.shape(), b.shape());
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  const Shape sa = broadcast_strides(a, shape), sb = broadcast_strides(b, shape);
  BT_DISPATCH(a.dtype(), T,
              cpu::binary<T>(op, int(shape.size()), shape.data(), a.data<T>(), sa.data(),
                             b.data<T>(), sb.data(), out.data<T>()));
  return out;
}

Tensor unary_forward(cpu::UnaryOp op, const char* name, const Tensor& x, double param = 0) {
  check_args(name, {x});
  Tensor xc = x.contiguous().detach();
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  BT_DISPATCH(x.dtype(), T, cpu::unary<T>(op, x.numel(), xc.data<T>(), out.data<T>(), param));
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

Tensor relu(const Tensor& x) {
  Tensor out = unary_forward(cpu::UnaryOp::relu, "relu", x);
  return record(out, "relu", {x}, [y = out.detach()](const Tensor& g) {
    Tensor gc = g.contiguous(), dx = Tensor::empty(g.shape(), g.dtype(), g.device());
    // relu(x) > 0 exactly where x > 0, so the saved output serves as the mask.
    BT_DISPATCH(g.dtype(), T,
                cpu::relu_backward<T>(g.numel(), y.data<T>(), gc.data<T>(), dx.data<T>()));
    return std::vector<Tensor>{dx};
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
