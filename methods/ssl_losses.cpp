#include "methods/ssl_losses.h"

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "kernels/cpu/ssl_losses.h"
#include "kernels/cuda/ssl_losses.h"

namespace bt::methods {

namespace {

// cpu runs kernels/cpu/ssl_losses; simt/cuda (float32) the fused kernels/cuda/ssl_losses.
Device check_embeddings(const char* op, const Tensor& a, const Tensor& b) {
  const Device dev = ops_detail::check_device_args(op, {a, b});
  BT_CHECK(a.dim() == 2 && a.shape() == b.shape(), op, ": expected two embeddings (N, D) of one shape, got ",
           shape_str(a.shape()), " and ", shape_str(b.shape()));
  return dev;
}

// A float32 device workspace of `floats` elements (8-byte aligned, as the launchers need).
Tensor workspace_on(Device dev, int64_t floats) { return Tensor::empty({floats}, DType::f32, dev); }

Tensor scalar_like(const Tensor& t, double v) { return Tensor::full({}, v, t.dtype(), t.device()); }

}  // namespace

double barlow_twins_auto_lambda(int64_t D) {
  BT_CHECK(D > 1, "lambda = auto needs an embedding dimension above 1, got ", D);
  return 1.0 / double(D - 1);
}

Tensor barlow_twins_loss(const Tensor& z1, const Tensor& z2, double lambda) {
  const Device dev = check_embeddings("barlow_twins_loss", z1, z2);
  const int64_t N = z1.size(0), D = z1.size(1);
  BT_CHECK(N > 1, "barlow_twins_loss: the batch-normalised embeddings need N > 1, got N = ", N);
  Tensor a = z1.contiguous().detach(), b = z2.contiguous().detach();
  // The kernel produces ∂L/∂z1 and ∂L/∂z2 (for g = 1) in the pass that computes the loss.
  Tensor dz1 = Tensor::empty(a.shape(), a.dtype(), a.device());
  Tensor dz2 = Tensor::empty(a.shape(), a.dtype(), a.device());
  double loss = 0;
  if (dev != Device::cpu) {
    Tensor ws = workspace_on(dev, cuda::barlow_twins_workspace_size(N, D));
    BT_CUDA_DISPATCH(dev, B,
                     loss = cuda::barlow_twins_loss<B>(N, D, a.data<float>(), b.data<float>(),
                                                       float(lambda), 1.0f, dz1.data<float>(),
                                                       dz2.data<float>(), ws.data<float>(), nullptr));
  } else {
    Tensor workspace = Tensor::empty({cpu::barlow_twins_workspace_size(N, D)}, a.dtype(), a.device());
    BT_DISPATCH(a.dtype(), T,
                loss = cpu::barlow_twins_loss<T>(N, D, a.data<T>(), b.data<T>(), T(lambda), T(1),
                                                 dz1.data<T>(), dz2.data<T>(), workspace.data<T>()));
  }  // the D×D workspace is released here, before backward
  return record(scalar_like(a, loss), "barlow_twins_loss", {z1, z2}, [dz1, dz2](const Tensor& g) {
    const double s = g.item();
    return std::vector<Tensor>{mul(dz1, s), mul(dz2, s)};
  });
}

Tensor barlow_twins_cross_correlation(const Tensor& z1, const Tensor& z2) {
  check_embeddings("barlow_twins_cross_correlation", z1, z2);
  NoGradGuard no_grad;
  const double N = double(z1.size(0));
  Tensor a = batch_norm(z1.detach(), {}, {}, {}, {}, true, 0.0, cpu::kBarlowTwinsBnEps);
  Tensor b = batch_norm(z2.detach(), {}, {}, {}, {}, true, 0.0, cpu::kBarlowTwinsBnEps);
  return mul(matmul(a.t(), b), 1.0 / N);
}

Tensor nt_xent_loss(const Tensor& z1, const Tensor& z2, double tau) {
  const Device dev = check_embeddings("nt_xent_loss", z1, z2);
  BT_CHECK(tau > 0, "nt_xent_loss: temperature must be positive, got ", tau);
  const int64_t N = z1.size(0), D = z1.size(1);
  Tensor z = l2_normalize(cat({z1, z2}, 0));  // (2N, D), differentiable
  Tensor zc = z.contiguous().detach();
  // Per row: the log-sum-exp and q = 1 − p_pos (the CPU and CUDA layouts are the same).
  Tensor saved = Tensor::empty({cpu::nt_xent_saved_size(N)}, zc.dtype(), zc.device());
  double loss = 0;
  if (dev != Device::cpu) {
    Tensor ws = workspace_on(dev, cuda::nt_xent_workspace_size(N, D));
    BT_CUDA_DISPATCH(dev, B,
                     loss = cuda::nt_xent_forward<B>(N, D, zc.data<float>(), float(tau),
                                                     saved.data<float>(), ws.data<float>(), nullptr));
  } else {
    BT_DISPATCH(zc.dtype(), T, loss = cpu::nt_xent_forward<T>(N, D, zc.data<T>(), T(tau), saved.data<T>()));
  }
  return record(scalar_like(zc, loss), "nt_xent_loss", {z}, [N, D, zc, saved, tau, dev](const Tensor& g) {
    Tensor dz = Tensor::empty(zc.shape(), zc.dtype(), zc.device());
    if (dev != Device::cpu) {
      Tensor ws = workspace_on(dev, cuda::nt_xent_workspace_size(N, D));
      BT_CUDA_DISPATCH(dev, B,
                       cuda::nt_xent_backward<B>(N, D, zc.data<float>(), float(tau), saved.data<float>(),
                                                 float(g.item()), dz.data<float>(), ws.data<float>(),
                                                 nullptr));
      return std::vector<Tensor>{dz};
    }
    BT_DISPATCH(zc.dtype(), T,
                cpu::nt_xent_backward<T>(N, D, zc.data<T>(), T(tau), saved.data<T>(), T(g.item()), dz.data<T>()));
    return std::vector<Tensor>{dz};
  });
}

Tensor byol_loss(const Tensor& p, const Tensor& t) {
  const Device dev = check_embeddings("byol_loss", p, t);
  const int64_t N = p.size(0), D = p.size(1);
  Tensor pc = p.contiguous().detach(), tc = t.contiguous().detach();
  Tensor dp = Tensor::empty(pc.shape(), pc.dtype(), pc.device());
  double loss = 0;
  if (dev != Device::cpu) {
    Tensor ws = workspace_on(dev, cuda::byol_workspace_size(N, D));
    BT_CUDA_DISPATCH(dev, B,
                     loss = cuda::byol_loss<B>(N, D, pc.data<float>(), tc.data<float>(), 1.0f,
                                               dp.data<float>(), ws.data<float>(), nullptr));
  } else {
    BT_DISPATCH(pc.dtype(), T,
                loss = cpu::byol_loss<T>(N, D, pc.data<T>(), tc.data<T>(), T(1), dp.data<T>()));
  }
  // Only p receives a gradient: t is the target branch (stop-gradient).
  return record(scalar_like(pc, loss), "byol_loss", {p}, [dp](const Tensor& g) {
    return std::vector<Tensor>{mul(dp, g.item())};
  });
}

}  // namespace bt::methods
