// The ops of engine/fused_ssl.h: device and dtype dispatch to the fused SSL loss kernels.
#include "engine/fused_ssl.h"

#include "engine/ops/dispatch.h"
#include "engine/precision.h"
#include "kernels/cpu/ssl_loss_kernels.h"
#include "kernels/cpu/vicreg.h"
#include "kernels/cuda/ssl_loss_launchers.h"
#include "kernels/cuda/vicreg.h"

namespace bt {

static_assert(kBarlowTwinsBnEps == cpu::kBarlowTwinsBnEps);

namespace {

// A float32 device workspace of `floats` elements (8-byte aligned, as the CUDA launchers need).
Tensor device_workspace(Device dev, int64_t floats) { return Tensor::empty({floats}, DType::f32, dev); }

// The 0-d tensor v of t's dtype and device.
Tensor scalar_like(const Tensor& t, double v) { return Tensor::full({}, v, t.dtype(), t.device()); }

}  // namespace

Device check_embeddings(const char* op, const Tensor& a, const Tensor& b) {
  const Device dev = ops_detail::check_device_args(op, {a, b});
  BT_CHECK(a.dim() == 2 && a.shape() == b.shape(), op, ": expected two embeddings (N, D) of one shape, got ",
           shape_str(a.shape()), " and ", shape_str(b.shape()));
  return dev;
}

FusedLossResult barlow_twins_fused(const Tensor& z1, const Tensor& z2, double lambda) {
  const Device dev = check_embeddings("barlow_twins_loss", z1, z2);
  const int64_t N = z1.size(0), D = z1.size(1);
  BT_CHECK(N > 1, "barlow_twins_loss: the batch-normalised embeddings need N > 1, got N = ", N);
  Tensor a = z1.contiguous().detach(), b = z2.contiguous().detach();
  // The kernel produces ∂L/∂z1 and ∂L/∂z2 (for g = 1) in the pass that computes the loss.
  Tensor dz1 = Tensor::empty(a.shape(), a.dtype(), a.device());
  Tensor dz2 = Tensor::empty(a.shape(), a.dtype(), a.device());
  double loss = 0;
  if (dev != Device::cpu) {
    Tensor ws = device_workspace(dev, cuda::barlow_twins_workspace_size(N, D));
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      loss = cuda::barlow_twins_loss<B>(N, D, a.data<float>(), b.data<float>(), float(lambda), 1.0f,
                                        dz1.data<float>(), dz2.data<float>(), ws.data<float>(), nullptr);
    });
  } else {
    Tensor workspace = Tensor::empty({cpu::barlow_twins_workspace_size(N, D)}, a.dtype(), a.device());
    const bool bf16_products = a.dtype() == DType::f32 && compute_precision() == Precision::bf16;
    ops_detail::dispatch_dtype(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      loss = cpu::barlow_twins_loss<T>(N, D, a.data<T>(), b.data<T>(), T(lambda), T(1), dz1.data<T>(),
                                       dz2.data<T>(), workspace.data<T>(), bf16_products);
    });
  }  // the D×D workspace is released here, before backward
  return {scalar_like(a, loss), dz1, dz2};
}

FusedLossResult regression_fused(const Tensor& p, const Tensor& t) {
  const Device dev = check_embeddings("byol_loss", p, t);
  const int64_t N = p.size(0), D = p.size(1);
  Tensor pc = p.contiguous().detach(), tc = t.contiguous().detach();
  Tensor dp = Tensor::empty(pc.shape(), pc.dtype(), pc.device());
  double loss = 0;
  if (dev != Device::cpu) {
    Tensor ws = device_workspace(dev, cuda::byol_workspace_size(N, D));
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      loss = cuda::byol_loss<B>(N, D, pc.data<float>(), tc.data<float>(), 1.0f, dp.data<float>(),
                                ws.data<float>(), nullptr);
    });
  } else {
    ops_detail::dispatch_dtype(pc.dtype(), [&](auto tag) {
      using T = decltype(tag);
      loss = cpu::byol_loss<T>(N, D, pc.data<T>(), tc.data<T>(), T(1), dp.data<T>());
    });
  }
  return {scalar_like(pc, loss), dp, Tensor()};
}

FusedLossResult vicreg_fused(const Tensor& z1, const Tensor& z2, const VicregWeights& weights) {
  const Device dev = ops_detail::check_device_args("vicreg_loss", {z1, z2});
  BT_CHECK(z1.dim() == 2 && z1.shape() == z2.shape(), "vicreg_loss: expected two embeddings (N, D) of one shape, got ",
           shape_str(z1.shape()), " and ", shape_str(z2.shape()));
  const int64_t N = z1.size(0), D = z1.size(1);
  BT_CHECK(N > 1, "vicreg_loss: the variances over the batch need N > 1, got N = ", N);
  const cpu::VicregWeights w{weights.invariance, weights.variance, weights.covariance, weights.gamma, weights.eps};
  Tensor a = z1.contiguous().detach(), b = z2.contiguous().detach();
  // The kernel produces ∂L/∂z1 and ∂L/∂z2 (for g = 1) in the pass that computes the loss.
  Tensor dz1 = Tensor::empty(a.shape(), a.dtype(), a.device());
  Tensor dz2 = Tensor::empty(a.shape(), a.dtype(), a.device());
  cpu::VicregTerms terms{};
  if (dev != Device::cpu) {
    Tensor ws = Tensor::empty({cuda::vicreg_workspace_size(N, D)}, DType::f32, dev);
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      terms = cuda::vicreg_loss<B>(N, D, a.data<float>(), b.data<float>(), w, 1.0f, dz1.data<float>(),
                                   dz2.data<float>(), ws.data<float>(), nullptr);
    });
  } else {
    Tensor ws = Tensor::empty({cpu::vicreg_workspace_size(N, D)}, a.dtype(), a.device());
    ops_detail::dispatch_dtype(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      terms = cpu::vicreg_loss<T>(N, D, a.data<T>(), b.data<T>(), w, T(1), dz1.data<T>(), dz2.data<T>(),
                                  ws.data<T>());
    });
  }  // the workspace is released here, before backward
  return {scalar_like(a, terms.loss(w)), dz1, dz2};
}

NtXentForward nt_xent_fused_forward(const Tensor& z, double tau) {
  const Device dev = z.device();
  const int64_t N = z.size(0) / 2, D = z.size(1);
  // Per row: the log-sum-exp and q = 1 − p_pos (the CPU and CUDA layouts are the same).
  Tensor saved = Tensor::empty({cpu::nt_xent_saved_size(N)}, z.dtype(), z.device());
  double loss = 0;
  if (dev != Device::cpu) {
    Tensor ws = device_workspace(dev, cuda::nt_xent_workspace_size(N, D));
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      loss = cuda::nt_xent_forward<B>(N, D, z.data<float>(), float(tau), saved.data<float>(), ws.data<float>(),
                                      nullptr);
    });
  } else {
    ops_detail::dispatch_dtype(z.dtype(), [&](auto tag) {
      using T = decltype(tag);
      loss = cpu::nt_xent_forward<T>(N, D, z.data<T>(), T(tau), saved.data<T>());
    });
  }
  return {scalar_like(z, loss), saved};
}

Tensor nt_xent_fused_backward(const Tensor& z, double tau, const Tensor& saved, double g) {
  const Device dev = z.device();
  const int64_t N = z.size(0) / 2, D = z.size(1);
  Tensor dz = Tensor::empty(z.shape(), z.dtype(), z.device());
  if (dev != Device::cpu) {
    Tensor ws = device_workspace(dev, cuda::nt_xent_workspace_size(N, D));
    ops_detail::dispatch_cuda_backend(dev, [&](auto backend) {
      using B = decltype(backend);
      cuda::nt_xent_backward<B>(N, D, z.data<float>(), float(tau), saved.data<float>(), float(g),
                                dz.data<float>(), ws.data<float>(), nullptr);
    });
    return dz;
  }
  ops_detail::dispatch_dtype(z.dtype(), [&](auto tag) {
    using T = decltype(tag);
    cpu::nt_xent_backward<T>(N, D, z.data<T>(), T(tau), saved.data<T>(), T(g), dz.data<T>());
  });
  return dz;
}

}  // namespace bt
