#pragma once
// The fused SSL loss kernels (kernels/cpu/ssl_loss_kernels.h, kernels/cpu/vicreg.h and their
// kernels/cuda launchers) as tensor-level ops: each checks its arguments, picks the kernel of
// the device and dtype, allocates the workspace and returns the loss with its gradient for an
// upstream gradient of 1. No autograd: the methods' loss files (methods/*/…_loss.cpp) record
// these as autograd ops and keep the composed, readable form of each loss.
#include "engine/tensor.h"

namespace bt {

// The ε of Barlow Twins' per-column batch normalisation (the fused kernels use the same).
inline constexpr double kBarlowTwinsBnEps = 1e-5;

// a and b are two embeddings (N, D) of one shape on one device; returns that device. `op`
// names the op in the error.
Device check_embeddings(const char* op, const Tensor& a, const Tensor& b);

// A fused loss: the 0-d loss (the inputs' dtype and device) and ∂L/∂z1, ∂L/∂z2 for g = 1
// (dz2 undefined where the second input takes no gradient).
struct FusedLossResult {
  Tensor loss, dz1, dz2;
};

// Barlow Twins over z1, z2 (N, D), N > 1: Σ_i (C_ii − 1)² + λ Σ_{i≠j} C_ij² of the
// batch-normalised cross-correlation C.
FusedLossResult barlow_twins_fused(const Tensor& z1, const Tensor& z2, double lambda);

// The BYOL / SimSiam regression loss mean(2 − 2cos(p, t)) over p, t (N, D); dz1 = ∂L/∂p only.
FusedLossResult regression_fused(const Tensor& p, const Tensor& t);

// VICReg's weights (the loss's formula: kernels/cpu/vicreg.h).
struct VicregWeights {
  double invariance = 25;  // λ
  double variance = 25;    // μ
  double covariance = 1;   // ν
  double gamma = 1;        // target standard deviation γ
  double eps = 1e-4;       // ε under the square root
};

// VICReg over z1, z2 (N, D), N > 1.
FusedLossResult vicreg_fused(const Tensor& z1, const Tensor& z2, const VicregWeights& w);

// NT-Xent over the L2-normalised views z = [z1; z2] (2N, D), contiguous: the loss and the
// per-row statistics its backward needs.
struct NtXentForward {
  Tensor loss, saved;
};
NtXentForward nt_xent_fused_forward(const Tensor& z, double tau);
// ∂L/∂z for an upstream gradient g, from the forward's `saved`.
Tensor nt_xent_fused_backward(const Tensor& z, double tau, const Tensor& saved, double g);

}  // namespace bt
