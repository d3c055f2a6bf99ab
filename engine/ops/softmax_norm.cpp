// log_softmax, cross_entropy and l2_normalize over the rows of a matrix: kernels/cpu on the cpu,
// kernels/cuda (softmax, normalize) on simt/cuda.
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/normalize.h"
#include "kernels/cpu/softmax.h"
#include "kernels/cuda/normalize.h"
#include "kernels/cuda/softmax.h"

namespace bt {

using ops_detail::check_device_args;
using ops_detail::check_dims;

Tensor log_softmax(const Tensor& x) {
  const Device dev = check_device_args("log_softmax", {x});
  check_dims("log_softmax", x, 2, "logits (rows, cols)");
  const int64_t rows = x.size(0), cols = x.size(1);
  Tensor xc = x.contiguous().detach(), y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (dev == Device::cpu)
    ops_detail::dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::log_softmax_forward<T>(rows, cols, xc.data<T>(), y.data<T>());
    });
  else
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      cuda::log_softmax_forward<B>(rows, cols, xc.data<float>(), y.data<float>(), nullptr);
    });
  return record(y, "log_softmax", {x}, [rows, cols, dev, yd = y.detach()](const Tensor& g) {
    Tensor gc = g.contiguous(), dx = Tensor::empty(g.shape(), g.dtype(), g.device());
    if (dev == Device::cpu)
      ops_detail::dispatch_dtype(g.dtype(), [&](auto tag) {
        using T = decltype(tag);
        cpu::log_softmax_backward<T>(rows, cols, yd.data<T>(), gc.data<T>(), dx.data<T>());
      });
    else
      ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
        using B = decltype(backend);
        cuda::log_softmax_backward<B>(rows, cols, yd.data<float>(), gc.data<float>(), dx.data<float>(),
                                      nullptr);
      });
    return std::vector<Tensor>{dx};
  });
}

namespace {

// cross_entropy on simt/cuda: the labels copied to an int32 device buffer, one loss per row
// (cuda::cross_entropy_rows), their mean by the reduce kernels (mean); the backward reads the
// upstream gradient on the device.
Tensor cross_entropy_device(const Tensor& logits, const std::vector<int32_t>& lab) {
  const Device dev = logits.device();
  const int64_t rows = logits.size(0), cols = logits.size(1);
  std::shared_ptr<void> labels = ops_detail::device_buffer(lab.size() * sizeof(int32_t), dev);
  copy_bytes(labels.get(), dev, lab.data(), Device::cpu, lab.size() * sizeof(int32_t));
  const auto* pl = static_cast<const int32_t*>(labels.get());
  Tensor xc = logits.contiguous().detach(), row_loss = Tensor::empty({rows}, DType::f32, dev);
  ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
    using B = decltype(backend);
    cuda::cross_entropy_rows<B>(rows, cols, xc.data<float>(), pl, row_loss.data<float>(), nullptr);
  });
  Tensor loss = mean(row_loss);
  return record(loss, "cross_entropy", {logits}, [rows, cols, xc, labels, pl](const Tensor& g) {
    Tensor gc = g.contiguous(), dx = Tensor::empty(xc.shape(), DType::f32, xc.device());
    ops_detail::dispatch_cuda_backend(xc.device(), [&](auto backend) {
      using B = decltype(backend);
      cuda::cross_entropy_backward<B>(rows, cols, xc.data<float>(), pl, gc.data<float>(), dx.data<float>(),
                                      nullptr);
    });
    return std::vector<Tensor>{dx};
  });
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels) {
  const Device dev = check_device_args("cross_entropy", {logits});
  check_dims("cross_entropy", logits, 2, "logits (N, classes)");
  const int64_t rows = logits.size(0), cols = logits.size(1);
  BT_CHECK(int64_t(labels.size()) == rows, "cross_entropy: ", labels.size(), " labels for ", rows,
           " rows of logits");
  std::vector<int32_t> lab(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    BT_CHECK(labels[i] >= 0 && labels[i] < cols, "cross_entropy: label ", labels[i], " at row ", i,
             " outside [0, ", cols, ")");
    lab[i] = int32_t(labels[i]);
  }
  if (dev != Device::cpu) return cross_entropy_device(logits, lab);
  Tensor xc = logits.contiguous().detach();
  Tensor loss = Tensor::empty({}, logits.dtype(), logits.device());
  ops_detail::dispatch_dtype(logits.dtype(), [&](auto tag) {
    using T = decltype(tag);
    loss.data<T>()[0] = cpu::cross_entropy_forward<T>(rows, cols, xc.data<T>(), lab.data());
  });
  return record(loss, "cross_entropy", {logits}, [rows, cols, xc, lab](const Tensor& g) {
    Tensor dx = Tensor::empty(xc.shape(), xc.dtype(), xc.device());
    ops_detail::dispatch_dtype(xc.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::cross_entropy_backward<T>(rows, cols, xc.data<T>(), lab.data(), T(g.item()), dx.data<T>());
    });
    return std::vector<Tensor>{dx};
  });
}

Tensor l2_normalize(const Tensor& x, double eps) {
  const Device dev = check_device_args("l2_normalize", {x});
  check_dims("l2_normalize", x, 2, "rows (N, D)");
  const int64_t N = x.size(0), D = x.size(1);
  Tensor xc = x.contiguous().detach(), y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (dev == Device::cpu)
    ops_detail::dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::l2_normalize_forward<T>(N, D, xc.data<T>(), T(eps), y.data<T>());
    });
  else
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      cuda::l2_normalize_forward<B>(N, D, xc.data<float>(), float(eps), y.data<float>(), nullptr);
    });
  return record(y, "l2_normalize", {x}, [N, D, xc, eps, dev](const Tensor& g) {
    Tensor gc = g.contiguous(), dx = Tensor::empty(g.shape(), g.dtype(), g.device());
    if (dev == Device::cpu)
      ops_detail::dispatch_dtype(g.dtype(), [&](auto tag) {
        using T = decltype(tag);
        cpu::l2_normalize_backward<T>(N, D, xc.data<T>(), gc.data<T>(), T(eps), dx.data<T>());
      });
    else
      ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
        using B = decltype(backend);
        cuda::l2_normalize_backward<B>(N, D, xc.data<float>(), gc.data<float>(), float(eps), dx.data<float>(),
                                       nullptr);
      });
    return std::vector<Tensor>{dx};
  });
}

}  // namespace bt
