#pragma once
// The three fused SSL losses of docs/design.md §5, forward + backward, on contiguous row-major buffers.
// `*_ref` are plain loops in double (full matrices); the versions without the suffix are the
// fast path (OpenBLAS GEMM through bt::cpu::gemm, OpenMP, no large temporaries).
// Gradients are returned for an upstream scalar gradient g (scaled by g) and overwrite (=).
#include <cstdint>

namespace bt::cpu {

// ---------------------------------------------------------------------------------------------
// Barlow Twins (Zbontar et al. 2021; docs/design.md §5).
//   z1, z2 (N, D): the projector outputs of the two views.
//   ẑ = (z − mean) / sqrt(var + 1e-5) per column (BatchNorm1d without affine, biased var)
//   C = ẑ1ᵀ ẑ2 / N                                  (D, D): the cross-correlation, not N×N
//   loss = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij²        (λ = 0.0051, or 1/(D − 1) for `auto`)
// Backward: G = g ∂L/∂C with G_ii = 2g(C_ii − 1), G_ij = 2gλ C_ij (i ≠ j); then
//   ∂/∂ẑ1 = ẑ2 Gᵀ / N,  ∂/∂ẑ2 = ẑ1 G / N,  and the BN training backward per column
//   dz = invstd/N · (N dẑ − Σ_n dẑ − ẑ Σ_n(dẑ ẑ))    (see batch_norm.h).
//   dz1, dz2 (N, D) (=): g ∂L/∂z1, g ∂L/∂z2; both required (a loss-only caller passes scratch).
// Returns the loss (unscaled by g).
inline constexpr double kBarlowTwinsBnEps = 1e-5;

template <class T>
T barlow_twins_loss_ref(int64_t N, int64_t D, const T* z1, const T* z2, T lambda, T g, T* dz1,
                        T* dz2);

// The fast version's workspace, in elements of T: C (D, D), overwritten in place by G — the
// only D×D buffer — then ∂/∂ẑ1 (N, D), then the two views' column statistics (6, D): the mean
// as a pair hi + lo, and invstd.
int64_t barlow_twins_workspace_size(int64_t N, int64_t D);

// Fast: ẑ1, ẑ2 are written into dz1, dz2, C by one GEMM, loss and G in one pass over C, the two
// gradient GEMMs, then the BN backward (ẑ recomputed from z). The column statistics are taken
// in double in two passes and ẑ = ((z − hi) − lo)·invstd, the BN backward in its centred form:
// no float term of the size of the mean, so embeddings with |mean| ≫ std (≈ ±1000 against 1)
// keep float accuracy (tests/test_ssl_numerics.cpp).
// workspace: barlow_twins_workspace_size(N, D) elements, or nullptr to allocate it here.
// bf16_products (float only; --precision bf16): the three GEMMs (C and the two gradients) round
// their operands ẑ and G to bf16 and sum in float32 (gemm_bf16.h), as PyTorch's CPU autocast
// computes this loss's bn(z1)ᵀ bn(z2); the statistics, the BN and the loss stay float32/double.
template <class T>
T barlow_twins_loss(int64_t N, int64_t D, const T* z1, const T* z2, T lambda, T g, T* dz1,
                    T* dz2, T* workspace, bool bf16_products = false);

// ---------------------------------------------------------------------------------------------
// NT-Xent, SimCLR (Chen et al. 2020; docs/design.md §5).
//   z (2N, D): normalize(cat(z1, z2)), already L2-normalized by the caller (l2_normalize_*):
//   rows [0, N) are view 1, rows [N, 2N) view 2; pos(i) = i + N for i < N, else i − N.
//   s_ij = z_i·z_j / τ for j ≠ i (s_ii = −∞, excluded)
//   loss = (1/2N) Σ_i ℓ_i,  ℓ_i = −log softmax_i(s)[pos(i)] = lse_i − s_i,pos(i),
//   lse_i = log Σ_{j≠i} exp(s_ij)  (computed with the row max subtracted).
// Gradient, with p_ij = exp(s_ij − lse_i) (p_ii = 0): ∂ℓ_i/∂s_ij = p_ij − [j = pos(i)], and
// s_ij = s_ji depends on z_k through ∂s_ij/∂z_k = (δ_ik z_j + δ_jk z_i)/τ, so
//   ∂L/∂z_k = 1/(2Nτ) · [Σ_j (p_kj + p_jk) z_j − 2 z_pos(k)]
// (row k's own softmax, plus every row j's softmax column k; pos is an involution, which gives
// the factor 2). z need not be normalized for this formula: normalization is upstream.
// The fast versions split off the positive pair: with q_i = 1 − p_i,pos(i),
//   ∂L/∂z_k = 1/(2Nτ) · [Σ_{j ∉ {k, pos(k)}} (p_kj + p_jk) z_j − (q_k + q_pos(k)) z_pos(k)],
// and take q in the log domain: the forward's softmax runs over the negatives only,
//   lse_neg,i = log Σ_{j ∉ {i, pos(i)}} exp(s_ij),  ℓ_i = softplus(lse_neg,i − s_i,pos(i)),
//   lse_i = s_i,pos(i) + ℓ_i,  q_i = −expm1(−ℓ_i).
// When the views are nearly aligned (ℓ ≈ 0.02), 1 − p or lse − s_pos by subtraction would lose
// most of the digits of q and ℓ (tests/test_ssl_numerics.cpp). s_i,pos(i) itself is a dot in
// double, not the similarity GEMM's float value: that rounding (~ε·√D/τ) would shift row i's ℓ,
// q and lse all alike, where the negatives' independent errors average out.

// Reference: the full 2N×2N matrix in double. dz (2N, D) (=) g ∂L/∂z, or nullptr (loss only).
template <class T>
T nt_xent_loss_ref(int64_t N, int64_t D, const T* z, T tau, T g, T* dz);

// What the forward keeps for the backward, in elements of T: (2, 2N), each row's lse_i, then
// its q_i = 1 − p_i,pos(i).
inline int64_t nt_xent_saved_size(int64_t N) { return 4 * N; }

// Fast forward: row blocks of 64 in parallel, column tiles of 256 from a GEMM, an online
// softmax over the negatives (running max m, running sum l rescaled by exp(m_old − m_new)) so
// the 2N×2N matrix is never stored; s_i,pos(i), ℓ_i, lse_i and q_i per row in double.
// saved (nt_xent_saved_size(N)) (=): lse, q. Returns the loss.
template <class T>
T nt_xent_forward(int64_t N, int64_t D, const T* z, T tau, T* saved);

// Fast backward: recomputes the tiles; with P_kj = exp(s_kj − lse_k) and, since s is
// symmetric, p_jk = exp(s_kj − lse_j), each tile adds (P + pᵀ-tile) z_tile into dz by a GEMM,
// the positive pair excluded; then the q term.
//   z (2N, D); saved from nt_xent_forward -> dz (2N, D) (=) g ∂L/∂z
template <class T>
void nt_xent_backward(int64_t N, int64_t D, const T* z, T tau, const T* saved, T g, T* dz);

// ---------------------------------------------------------------------------------------------
// BYOL / SimSiam regression loss (Grill et al. 2020; docs/design.md §5), with t a constant (stop-grad):
//   p̂ = p / max(||p||, eps), t̂ = t / max(||t||, eps), eps = 1e-12 (F.normalize)
//   loss = (1/N) Σ_i (2 − 2 p̂_i·t̂_i)
//   dp_i (=) = g ∂L/∂p_i = −(2g/N) (t̂_i − p̂_i (p̂_i·t̂_i)) / ||p_i||   when ||p_i|| > eps
//                        = −(2g/N) t̂_i / eps                           otherwise
//   p, t (N, D); dp (N, D) or nullptr (loss only). Returns the loss.
// (SimSiam's −cos is the same loss up to an affine map: −cos = loss/2 − 1.)
inline constexpr double kByolNormEps = 1e-12;

template <class T>
T byol_loss_ref(int64_t N, int64_t D, const T* p, const T* t, T g, T* dp);
template <class T>
T byol_loss(int64_t N, int64_t D, const T* p, const T* t, T g, T* dp);

}  // namespace bt::cpu
