// conv2d, batch_norm (+ fused ReLU), max_pool2d and global average pooling: thin autograd
// wrappers over the CPU kernels in kernels/cpu and, on simt/cuda, the CUDA kernels in
// kernels/cuda (batch_norm, pool). conv2d on cuda is cuDNN, on simt our conv2d.cu
// (engine/device.h).
#include <memory>

#include "engine/device.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "engine/precision.h"
#include "kernels/cpu/batch_norm.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/pool.h"
#include "kernels/cuda/batch_norm.h"
#include "kernels/cuda/pool.h"

namespace bt {

using ops_detail::check_device_args;
using ops_detail::check_dims;

namespace {

bool g_blocked_activations = true;

cpu::ChannelLayout channel_layout(Layout l) {
  return l == Layout::nChw16c ? cpu::ChannelLayout::nChw16c : cpu::ChannelLayout::nchw;
}

// The version each pass runs on the cpu device: float64 the im2col path (it has a dgemm variant);
// float32 the fastest measured path, one for all passes, or under --precision bf16
// (engine/precision.h) oneDNN's bf16 convolution in the passes where it is faster. A 1×1 conv
// (a downsample) of an nChw16c input runs oneDNN direct: im2col, faster on NCHW, would cost
// four reorders (x and y forward, dy and dx backward); a Barlow Twins step at width 16 is ~4 %
// faster so (step_bench).
struct ConvAlgos {
  cpu::ConvAlgo forward, backward_data, backward_weight;
};
ConvAlgos conv_algos(DType dtype, const cpu::Conv2dShape& s, Layout x_layout) {
  using cpu::ConvPass;
  if (dtype == DType::f64) return {cpu::ConvAlgo::im2col, cpu::ConvAlgo::im2col, cpu::ConvAlgo::im2col};
  if (x_layout == Layout::nChw16c && s.R * s.S == 1 && s.K % cpu::kChannelBlock == 0 && g_blocked_activations)
    return {cpu::ConvAlgo::dnnl_direct, cpu::ConvAlgo::dnnl_direct, cpu::ConvAlgo::dnnl_direct};
  if (compute_precision() == Precision::bf16)
    return {cpu::best_conv_algo_bf16(s, ConvPass::forward), cpu::best_conv_algo_bf16(s, ConvPass::backward_data),
            cpu::best_conv_algo_bf16(s, ConvPass::backward_weight)};
  const cpu::ConvAlgo a = cpu::best_conv_algo(s);
  return {a, a, a};
}

template <class T>
const T* opt_ptr(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}
template <class T>
T* opt_mut(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

void check_channel_vector(const char* op, const Tensor& t, int64_t C, const char* what) {
  if (!t.defined()) return;
  BT_CHECK(t.dim() == 1 && t.size(0) == C && t.is_contiguous(), op, ": ", what, " of shape ",
           shape_str(t.shape()), ", expected (", C, ",)");
}

}  // namespace

void set_blocked_activations(bool on) { g_blocked_activations = on; }
bool blocked_activations() { return g_blocked_activations; }

// On the cpu in float32 y comes in nChw16c when K is a multiple of 16 (engine/layout.h): with
// oneDNN for all three passes the kernels read x as it comes and write y in nChw16c where the
// primitive computes in it; otherwise (the 3-channel stem: im2col) they run in NCHW and y is
// reordered once, so that the layers after it still work in nChw16c. dx takes the layout the
// kernels read x in (run_backward converts it to x's own).
Tensor conv2d(const Tensor& x, const Tensor& w, int64_t stride, int64_t padding) {
  const Device dev = check_device_args("conv2d", {x, w});
  check_dims("conv2d", x, 4, "an input (N, C, H, W)");
  check_dims("conv2d", w, 4, "a weight (K, C, R, S)");
  BT_CHECK(x.size(1) == w.size(1), "conv2d: input ", shape_str(x.shape()), " has ", x.size(1),
           " channels but weight ", shape_str(w.shape()), " expects ", w.size(1));
  cpu::Conv2dShape s{x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3),
                     stride, stride, padding, padding};
  BT_CHECK(s.valid(), "conv2d: invalid geometry ", s.str(), " for input ", shape_str(x.shape()));
  const bool on_device = dev != Device::cpu;
  const ConvAlgos algo = conv_algos(x.dtype(), s, x.layout());  // unused on simt/cuda
  const bool blocked = !on_device && x.dtype() == DType::f32 && g_blocked_activations;
  const bool dnnl = blocked && cpu::is_dnnl(algo.forward) && cpu::is_dnnl(algo.backward_data) &&
                    cpu::is_dnnl(algo.backward_weight);
  // The layouts the kernels work in: x_layout for x and dx, y_layout for y and dy.
  const Layout x_layout = dnnl ? x.layout() : Layout::strided;
  const Layout y_layout = dnnl && cpu::conv2d_computes_nChw16c(algo.forward, s) ? Layout::nChw16c : Layout::strided;
  const Layout out_layout = blocked && s.K % cpu::kChannelBlock == 0 ? Layout::nChw16c : y_layout;
  const cpu::ConvLayouts layouts{channel_layout(x_layout), channel_layout(y_layout)};
  Tensor xc = x.to(x_layout).dense().detach(), wc = w.contiguous().detach();
  Tensor y = Tensor::empty({s.N, s.K, s.P(), s.Q()}, x.dtype(), x.device(), y_layout);
  if (on_device) device_calls::conv2d_forward(dev, s, xc.data<float>(), wc.data<float>(), y.data<float>());
  else
    ops_detail::dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::conv2d_forward(algo.forward, s, xc.dense_data<T>(), wc.data<T>(), y.dense_data<T>(), layouts,
                          {xc.bf16_rounding(), nullptr});
    });
  if (out_layout != y_layout) y = y.to(out_layout).detach();  // not recorded: y gets the conv2d node
  // Backward reads x's bf16 rounding only in a bf16 weight gradient. Otherwise it goes now, not
  // kept alive with x until then (at width 64 most layers run float32 Winograd: their inputs'
  // roundings would add a quarter to the step's peak memory). Dropping one is always safe: a
  // later reader rounds its own copy.
  if (!(algo.backward_weight == cpu::ConvAlgo::dnnl_bf16 && wants_grad(w)) && xc.storage())
    xc.storage()->drop_bf16_rounding();
  return record(y, "conv2d", {x, w}, [s, dev, on_device, algo, layouts, x_layout, y_layout, xc, wc, x,
                                      w](const Tensor& g) {
    Tensor gc = g.to(y_layout).dense();
    Tensor dx = wants_grad(x) ? Tensor::empty(x.shape(), x.dtype(), x.device(), x_layout) : Tensor();
    Tensor dw = wants_grad(w) ? Tensor::empty(w.shape(), w.dtype(), w.device()) : Tensor();
    if (on_device) {
      if (dx.defined()) device_calls::conv2d_backward_data(dev, s, gc.data<float>(), wc.data<float>(), dx.data<float>());
      if (dw.defined()) device_calls::conv2d_backward_weight(dev, s, xc.data<float>(), gc.data<float>(), dw.data<float>());
    } else {
      ops_detail::dispatch_dtype(x.dtype(), [&](auto tag) {  // both passes in one call: one copy of dy
        using T = decltype(tag);
        cpu::conv2d_backward(algo.backward_data, algo.backward_weight, s, xc.dense_data<T>(), gc.dense_data<T>(),
                             wc.data<T>(), dx.defined() ? dx.dense_data<T>() : nullptr, opt_mut<T>(dw), layouts,
                             {xc.bf16_rounding(), gc.bf16_rounding()});
      });
    }
    return std::vector<Tensor>{dx, dw};
  });
}

namespace {

// batch_norm on simt/cuda (float32): the kernels/cuda launchers, same arguments as the CPU path.
void batch_norm_forward_device(bool fuse_relu, bool training, int64_t N, int64_t C, int64_t HW,
                               const Tensor& xc, const Tensor& gamma, const Tensor& beta,
                               const Tensor& running_mean, const Tensor& running_var,
                               double momentum, double eps, const Tensor& y, const Tensor& mean_t,
                               const Tensor& invstd_t) {
  const float *px = xc.data<float>(), *pg = opt_ptr<float>(gamma), *pb = opt_ptr<float>(beta);
  float* py = y.data<float>();
  ops_detail::dispatch_cuda_backend(xc.device(), [&](auto backend) {
    using B = decltype(backend);
    if (training) {
      auto forward = fuse_relu ? cuda::batch_norm_relu_forward_train<B> : cuda::batch_norm_forward_train<B>;
      forward(N, C, HW, px, pg, pb, float(eps), float(momentum), py, mean_t.data<float>(),
              invstd_t.data<float>(), opt_mut<float>(running_mean), opt_mut<float>(running_var), nullptr);
    } else {
      cuda::batch_norm_forward_eval<B>(N, C, HW, px, pg, pb, running_mean.data<float>(),
                                       running_var.data<float>(), float(eps), py, nullptr);
    }
  });
}

void batch_norm_backward_device(bool fuse_relu, bool training, int64_t N, int64_t C, int64_t HW,
                                const Tensor& gc, const Tensor& xc, const Tensor& yd,
                                const Tensor& gamma, const Tensor& mean_t, const Tensor& invstd_t,
                                const Tensor& rm, const Tensor& rv, double eps, const Tensor& dx,
                                const Tensor& dgamma, const Tensor& dbeta) {
  const float *pdy = gc.data<float>(), *px = xc.data<float>(), *pg = opt_ptr<float>(gamma);
  float *pdx = dx.data<float>(), *pdg = opt_mut<float>(dgamma), *pdb = opt_mut<float>(dbeta);
  ops_detail::dispatch_cuda_backend(xc.device(), [&](auto backend) {
    using B = decltype(backend);
    if (training && fuse_relu)
      cuda::batch_norm_relu_backward_train<B>(N, C, HW, pdy, px, yd.data<float>(), pg,
                                              mean_t.data<float>(), invstd_t.data<float>(), pdx,
                                              pdg, pdb, nullptr);
    else if (training)
      cuda::batch_norm_backward_train<B>(N, C, HW, pdy, px, pg, mean_t.data<float>(),
                                         invstd_t.data<float>(), pdx, pdg, pdb, nullptr);
    else
      cuda::batch_norm_backward_eval<B>(N, C, HW, pdy, px, pg, rm.data<float>(), rv.data<float>(),
                                        float(eps), pdx, pdg, pdb, nullptr);
  });
}

// fuse_relu is only used in training (batch_norm_relu composes relu(batch_norm) in eval).
Tensor batch_norm_impl(const char* op, bool fuse_relu, const Tensor& x, const Tensor& gamma,
                       const Tensor& beta, const Tensor& running_mean, const Tensor& running_var,
                       bool training, double momentum, double eps) {
  const Device dev = check_device_args(op, {x, gamma, beta, running_mean, running_var});
  BT_CHECK(x.dim() == 2 || x.dim() == 4, op, ": expected input (N, C) or (N, C, H, W), got ",
           shape_str(x.shape()));
  const int64_t N = x.size(0), C = x.size(1), HW = x.dim() == 4 ? x.size(2) * x.size(3) : 1;
  check_channel_vector(op, gamma, C, "weight");
  check_channel_vector(op, beta, C, "bias");
  check_channel_vector(op, running_mean, C, "running_mean");
  check_channel_vector(op, running_var, C, "running_var");
  BT_CHECK(training || (running_mean.defined() && running_var.defined()), op,
           ": evaluation mode needs running_mean and running_var");
  BT_CHECK(!training || N * HW > 1, op, ": training needs more than one value per channel, got input ",
           shape_str(x.shape()));
  Tensor xc = x.dense().detach();  // NCHW or nChw16c (engine/layout.h); y and dx in that layout
  const cpu::ChannelLayout layout = channel_layout(xc.layout());
  Tensor y = Tensor::empty_like(xc);
  Tensor mean_t, invstd_t;
  if (training) {
    mean_t = Tensor::empty({C}, x.dtype(), x.device());
    invstd_t = Tensor::empty({C}, x.dtype(), x.device());
  }
  // Under --precision bf16 a training BN of blocked activations writes the bf16 rounding of dx
  // beside it (the dy of the conv before it), and BN-ReLU that of y too (the next conv's x):
  // the bf16 convolutions read those, with no rounding copies of their own (engine/tensor.h).
  const bool round_bf16 = training && ops_detail::writes_bf16_rounding(y);
  if (dev != Device::cpu) {
    batch_norm_forward_device(fuse_relu, training, N, C, HW, xc, gamma, beta, running_mean,
                              running_var, momentum, eps, y, mean_t, invstd_t);
  } else if (training) {
    uint16_t* y_bf16 = round_bf16 && fuse_relu ? y.attach_bf16_rounding() : nullptr;
    ops_detail::dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      auto forward = fuse_relu ? cpu::batch_norm_relu_forward_train<T> : cpu::batch_norm_forward_train<T>;
      forward(N, C, HW, xc.dense_data<T>(), opt_ptr<T>(gamma), opt_ptr<T>(beta), T(eps), T(momentum),
              y.dense_data<T>(), mean_t.data<T>(), invstd_t.data<T>(), opt_mut<T>(running_mean),
              opt_mut<T>(running_var), layout, y_bf16);
    });
  } else {
    ops_detail::dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::batch_norm_forward_eval<T>(N, C, HW, xc.dense_data<T>(), opt_ptr<T>(gamma), opt_ptr<T>(beta),
                                      running_mean.data<T>(), running_var.data<T>(), T(eps), y.dense_data<T>(),
                                      layout);
    });
  }
  // Eval-mode statistics are constants: snapshot them so later updates don't leak in.
  Tensor rm = training ? Tensor() : running_mean.detach().clone();
  Tensor rv = training ? Tensor() : running_var.detach().clone();
  Tensor yd = y.detach();
  return record(y, op, {x, gamma, beta}, [=](const Tensor& g) {
    Tensor gc = g.to(xc.layout()).dense();
    Tensor dx = Tensor::empty_like(xc);
    Tensor dgamma = wants_grad(gamma) ? Tensor::empty({C}, x.dtype(), x.device()) : Tensor();
    Tensor dbeta = wants_grad(beta) ? Tensor::empty({C}, x.dtype(), x.device()) : Tensor();
    if (dev != Device::cpu) {
      batch_norm_backward_device(fuse_relu, training, N, C, HW, gc, xc, yd, gamma, mean_t,
                                 invstd_t, rm, rv, eps, dx, dgamma, dbeta);
      return std::vector<Tensor>{dx, dgamma, dbeta};
    }
    uint16_t* dx_bf16 = round_bf16 ? dx.attach_bf16_rounding() : nullptr;
    ops_detail::dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if (training && fuse_relu)
        cpu::batch_norm_relu_backward_train<T>(N, C, HW, gc.dense_data<T>(), xc.dense_data<T>(),
                                               yd.dense_data<T>(), opt_ptr<T>(gamma), mean_t.data<T>(),
                                               invstd_t.data<T>(), dx.dense_data<T>(), opt_mut<T>(dgamma),
                                               opt_mut<T>(dbeta), layout, dx_bf16);
      else if (training)
        cpu::batch_norm_backward_train<T>(N, C, HW, gc.dense_data<T>(), xc.dense_data<T>(), opt_ptr<T>(gamma),
                                          mean_t.data<T>(), invstd_t.data<T>(), dx.dense_data<T>(),
                                          opt_mut<T>(dgamma), opt_mut<T>(dbeta), layout, dx_bf16);
      else
        cpu::batch_norm_backward_eval<T>(N, C, HW, gc.dense_data<T>(), xc.dense_data<T>(), opt_ptr<T>(gamma),
                                         rm.data<T>(), rv.data<T>(), T(eps), dx.dense_data<T>(),
                                         opt_mut<T>(dgamma), opt_mut<T>(dbeta), layout);
    });
    return std::vector<Tensor>{dx, dgamma, dbeta};
  });
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps) {
  return batch_norm_impl("batch_norm", false, x, gamma, beta, running_mean, running_var, training,
                         momentum, eps);
}

Tensor batch_norm_relu(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                       const Tensor& running_mean, const Tensor& running_var, bool training,
                       double momentum, double eps) {
  if (!training) return relu(batch_norm(x, gamma, beta, running_mean, running_var, false, momentum, eps));
  return batch_norm_impl("batch_norm_relu", true, x, gamma, beta, running_mean, running_var, true,
                         momentum, eps);
}

namespace {

// max_pool2d on simt/cuda: the argmax indices (int32) live in a raw device buffer.
Tensor max_pool2d_device(const Tensor& x, const Tensor& xc, const Tensor& y,
                         const cpu::PoolWindow& win) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  std::shared_ptr<void> indices = ops_detail::device_buffer(y.numel() * sizeof(int32_t), x.device());
  ops_detail::dispatch_cuda_backend(x.device(), [&](auto backend) {
    using B = decltype(backend);
    cuda::max_pool2d_forward<B>(N, C, H, W, win, xc.data<float>(), y.data<float>(),
                                static_cast<int32_t*>(indices.get()), nullptr);
  });
  return record(y, "max_pool2d", {x}, [=](const Tensor& g) {
    Tensor gc = g.contiguous(), dx = Tensor::empty(x.shape(), x.dtype(), x.device());
    ops_detail::dispatch_cuda_backend(x.device(), [&](auto backend) {
      using B = decltype(backend);
      cuda::max_pool2d_backward<B>(N, C, H, W, win, static_cast<const int32_t*>(indices.get()),
                                   gc.data<float>(), dx.data<float>(), nullptr);
    });
    return std::vector<Tensor>{dx};
  });
}

}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const Device dev = check_device_args("max_pool2d", {x});
  check_dims("max_pool2d", x, 4, "an input (N, C, H, W)");
  const cpu::PoolWindow win{kernel, kernel, stride, stride, padding, padding};
  BT_CHECK(kernel > 0 && stride > 0 && padding >= 0 && padding <= kernel / 2, "max_pool2d: kernel ",
           kernel, " stride ", stride, " padding ", padding, " (padding must be at most kernel/2)");
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  BT_CHECK(win.out_h(H) > 0 && win.out_w(W) > 0, "max_pool2d: input ", shape_str(x.shape()),
           " is smaller than the kernel ", kernel);
  Tensor xc = x.contiguous().detach();
  Tensor y = Tensor::empty({N, C, win.out_h(H), win.out_w(W)}, x.dtype(), x.device());
  if (dev != Device::cpu) return max_pool2d_device(x, xc, y, win);
  auto indices = std::make_shared<std::vector<int32_t>>(y.numel());
  ops_detail::dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    cpu::max_pool2d_forward<T>(N, C, H, W, win, xc.data<T>(), y.data<T>(), indices->data());
  });
  return record(y, "max_pool2d", {x}, [=](const Tensor& g) {
    Tensor gc = g.contiguous(), dx = Tensor::empty(x.shape(), x.dtype(), x.device());
    ops_detail::dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::max_pool2d_backward<T>(N, C, H, W, win, indices->data(), gc.data<T>(), dx.data<T>());
    });
    return std::vector<Tensor>{dx};
  });
}

Tensor global_avg_pool2d(const Tensor& x) {
  const Device dev = check_device_args("global_avg_pool2d", {x});
  check_dims("global_avg_pool2d", x, 4, "an input (N, C, H, W)");
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  Tensor xc = x.dense().detach();  // NCHW or nChw16c; y (N, C) is strided, dx in x's layout
  const Layout x_layout = xc.layout();
  Tensor y = Tensor::empty({N, C}, x.dtype(), x.device());
  if (dev == Device::cpu)
    ops_detail::dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cpu::global_avg_pool_forward<T>(N, C, HW, xc.dense_data<T>(), y.data<T>(), channel_layout(x_layout));
    });
  else
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      cuda::global_avg_pool_forward<B>(N, C, HW, xc.data<float>(), y.data<float>(), nullptr);
    });
  const Shape in_shape = x.shape();
  return record(y, "global_avg_pool2d", {x}, [=](const Tensor& g) {
    Tensor gc = g.contiguous(), dx = Tensor::empty(in_shape, g.dtype(), g.device(), x_layout);
    if (dev == Device::cpu)
      ops_detail::dispatch_dtype(g.dtype(), [&](auto tag) {
        using T = decltype(tag);
        cpu::global_avg_pool_backward<T>(N, C, HW, gc.data<T>(), dx.dense_data<T>(), channel_layout(x_layout));
      });
    else
      ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
        using B = decltype(backend);
        cuda::global_avg_pool_backward<B>(N, C, HW, gc.data<float>(), dx.data<float>(), nullptr);
      });
    return std::vector<Tensor>{dx};
  });
}

}  // namespace bt
