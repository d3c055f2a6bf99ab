#include "methods/vicreg/vicreg_loss.h"

#include "engine/autograd.h"
#include "engine/dist/collectives.h"
#include "engine/ops.h"
#include "engine/ops/dispatch.h"
#include "kernels/cuda/vicreg.h"

namespace bt::methods {

Tensor vicreg_loss(const Tensor& z1, const Tensor& z2, const cpu::VicregWeights& w) {
  const Device dev = ops_detail::check_device_args("vicreg_loss", {z1, z2});
  BT_CHECK(z1.dim() == 2 && z1.shape() == z2.shape(), "vicreg_loss: expected two embeddings (N, D) of one shape, got ",
           shape_str(z1.shape()), " and ", shape_str(z2.shape()));
  const int64_t N = z1.size(0), D = z1.size(1);
  BT_CHECK(N > 1, "vicreg_loss: the variances over the batch need N > 1, got N = ", N);
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
  Tensor loss = Tensor::full({}, terms.loss(w), a.dtype(), a.device());
  return record(loss, "vicreg_loss", {z1, z2}, [dz1, dz2](const Tensor& g) {
    const double s = g.item();
    return std::vector<Tensor>{mul(dz1, s), mul(dz2, s)};
  });
}

Tensor vicreg_loss_dist(const Tensor& z1, const Tensor& z2, const cpu::VicregWeights& w,
                        dist::ProcessGroup& group) {
  return vicreg_loss(dist::all_gather(z1, group), dist::all_gather(z2, group), w);
}

namespace composed {

// The loss of kernels/cpu/vicreg.h term by term, differentiated by autograd.
Tensor vicreg_loss(const Tensor& z1, const Tensor& z2, const cpu::VicregWeights& w) {
  const double N = double(z1.size(0)), D = double(z1.size(1));
  Tensor invariance = mean(pow(sub(z1, z2), 2.0));  // (1/(N·D)) Σ (z1 − z2)²
  Tensor variance = Tensor::zeros({}, z1.dtype(), z1.device()), covariance = variance;
  for (const Tensor& z : {z1, z2}) {
    Tensor zc = sub(z, mean(z, {0}, true));
    Tensor var = mul(sum(mul(zc, zc), {0}), 1.0 / (N - 1));             // C_jj, unbiased (D)
    Tensor c = mul(matmul(zc.t(), zc), 1.0 / (N - 1));                   // C(z) (D, D)
    Tensor hinge = relu(add(mul(sqrt(add(var, w.eps)), -1.0), w.gamma));  // max(0, γ − sqrt(var + ε))
    variance = add(variance, mul(sum(hinge), 1.0 / D));
    // Σ_{i≠j} C_ij² = Σ C² − Σ_j C_jj²
    covariance = add(covariance, mul(sub(sum(mul(c, c)), sum(mul(var, var))), 1.0 / D));
  }
  return add(add(mul(invariance, w.invariance), mul(variance, w.variance)), mul(covariance, w.covariance));
}

}  // namespace composed

}  // namespace bt::methods
