#pragma once
// Collapse metrics of embeddings Z (N, D), logged each epoch (docs/design.md §5 "Evaluation").
#include "engine/tensor.h"

namespace bt::tools {

// Mean over dimensions of the standard deviation over the batch of the L2-normalised rows
// (SimSiam, Chen & He 2021, §4.1; solo-learn's z_std):
//   ẑ_n = z_n / max(‖z_n‖₂, 1e-12),   std_d = √( Σ_n (ẑ_nd − mean_n ẑ_nd)² / (N − 1) ),
//   result = (1/D) Σ_d std_d.
// Unbiased (N − 1), as torch.std. About 1/√D for healthy embeddings spread over the sphere,
// 0 when every row points the same way. N ≥ 2.
double normalized_std(const Tensor& z);

// Effective rank (Roy & Vetterli 2007, "The effective rank: a measure of effective
// dimensionality"): with σ_k the singular values of the column-centred Z_c,
//   p_k = σ_k / Σ_j σ_j,   erank = exp(−Σ_k p_k log p_k)   (0 log 0 = 0),
// between 1 (rank one) and min(N, D) (all σ equal). The σ_k² are the eigenvalues of the
// smaller Gram matrix Z_cᵀZ_c (D × D) or Z_c Z_cᵀ (N × N), computed in float64 by LAPACK
// dsyev; eigenvalues at or below m·ε·λ_max (m the Gram side, ε = DBL_EPSILON: rounding noise
// of a rank-deficient Gram) count as 0.
// A collapsed Z (all rows equal, so Z_c = 0 and every σ is 0) has erank 0 by definition
// here: Roy & Vetterli define it for non-zero matrices only, and 0 sets total collapse apart
// from a rank-one Z (erank 1). N ≥ 1.
double effective_rank(const Tensor& z);

// Both return NaN when Z holds a non-finite value (a diverged run), and throw bt::Error on a
// wrong shape.

struct CollapseMetrics {
  double normalized_std = 0;  // normalized_std(Z)
  double healthy_std = 0;     // 1/√D, the reference value of normalized_std
  double effective_rank = 0;  // effective_rank(Z)
};

CollapseMetrics collapse_metrics(const Tensor& z);

}  // namespace bt::tools
