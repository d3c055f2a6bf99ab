#pragma once
// VICReg loss (Bardes, Ponce & LeCun 2022, eq. 1–6), forward + backward, on contiguous row-major
// buffers. z1, z2 (N, D): the expander outputs of the two views; per view, z̄ = z − mean (per
// column over the batch) and C(z) = z̄ᵀ z̄ / (N − 1) (D, D), so C_jj = Var_j (unbiased).
//   inv  = (1/(N·D)) Σ_{n,j} (z1 − z2)²_nj                      invariance (MSE)
//   var  = (1/D) Σ_j max(0, γ − sqrt(C(z)_jj + ε))               variance, for z = z1 and z = z2
//   cov  = (1/D) Σ_{i≠j} C(z)_ij²                                covariance, for z = z1 and z = z2
//   loss = λ·inv + μ·(var(z1) + var(z2)) + ν·(cov(z1) + cov(z2))
// Gradients (Σ_n z̄_nj = 0 removes the centring's own terms):
//   ∂inv/∂z1 = 2 (z1 − z2) / (N·D) = −∂inv/∂z2
//   ∂var/∂z_nj = −[γ > s_j] · z̄_nj / (D (N − 1) s_j),  s_j = sqrt(C_jj + ε)
//   ∂cov/∂z   = 4 z̄ · offdiag(C) / (D (N − 1))              (C symmetric)
// dz1, dz2 (N, D) (=): g ∂L/∂z1, g ∂L/∂z2 (both required). Returns the loss (unscaled by g).
#include <cstdint>

namespace bt::cpu {

struct VicregWeights {
  double invariance = 25;  // λ
  double variance = 25;    // μ
  double covariance = 1;   // ν
  double gamma = 1;        // target standard deviation γ
  double eps = 1e-4;       // ε under the square root
};

// The loss's three terms, each summed over the two views (var, cov) as in the formula above.
struct VicregTerms {
  double invariance, variance, covariance;
  double loss(const VicregWeights& w) const {
    return w.invariance * invariance + w.variance * variance + w.covariance * covariance;
  }
};

// Reference: plain loops in double, full matrices.
template <class T>
VicregTerms vicreg_loss_ref(int64_t N, int64_t D, const T* z1, const T* z2, const VicregWeights& w,
                            T g, T* dz1, T* dz2);

// The fast version's workspace, in elements of T: z̄ (N, D) | C (D, D), overwritten by
// 4gν offdiag(C) / (D (N − 1)) | the column means (D). One view at a time reuses it.
int64_t vicreg_workspace_size(int64_t N, int64_t D);

// Fast: per view, C by one GEMM (z̄ᵀ z̄), the variance and covariance terms and the covariance
// gradient's factor in one pass over C, dz += z̄ · that factor by a second GEMM, plus the
// variance term (a per-column multiple of z̄) and the invariance term.
// N > 1. workspace: vicreg_workspace_size(N, D) elements, or nullptr to allocate it here.
template <class T>
VicregTerms vicreg_loss(int64_t N, int64_t D, const T* z1, const T* z2, const VicregWeights& w, T g,
                        T* dz1, T* dz2, T* workspace);

}  // namespace bt::cpu
