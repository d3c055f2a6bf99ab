#include "kernels/cpu/ssl_loss_kernels.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/gemm_bf16.h"

namespace bt::cpu {

namespace {

constexpr int64_t kParallelMin = 1 << 14;
constexpr int64_t kNtXentParallelMin = 1 << 20;  // multiply-adds of the 2N×2N×D similarity
constexpr int64_t kRowBlock = 64;   // NT-Xent rows per task
constexpr int64_t kColTile = 256;   // NT-Xent columns per similarity tile

inline int64_t positive(int64_t i, int64_t N) { return i < N ? i + N : i - N; }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Barlow Twins

template <class T>
T barlow_twins_loss_ref(int64_t N, int64_t D, const T* z1, const T* z2, T lambda, T g, T* dz1,
                        T* dz2) {
  // ẑ per view, column by column (biased variance).
  std::vector<double> zh[2], invstd[2];
  const T* z[2] = {z1, z2};
  for (int v = 0; v < 2; ++v) {
    zh[v].resize(N * D);
    invstd[v].resize(D);
    for (int64_t j = 0; j < D; ++j) {
      double s = 0, q = 0;
      for (int64_t n = 0; n < N; ++n) s += z[v][n * D + j];
      const double mean = s / double(N);
      for (int64_t n = 0; n < N; ++n) q += (z[v][n * D + j] - mean) * (z[v][n * D + j] - mean);
      invstd[v][j] = 1.0 / std::sqrt(q / double(N) + kBarlowTwinsBnEps);
      for (int64_t n = 0; n < N; ++n) zh[v][n * D + j] = (z[v][n * D + j] - mean) * invstd[v][j];
    }
  }
  // C = ẑ1ᵀ ẑ2 / N (D, D); the loss; G = g ∂L/∂C.
  std::vector<double> G(D * D);
  double loss = 0;
  for (int64_t i = 0; i < D; ++i)
    for (int64_t j = 0; j < D; ++j) {
      double c = 0;
      for (int64_t n = 0; n < N; ++n) c += zh[0][n * D + i] * zh[1][n * D + j];
      c /= double(N);
      if (i == j) {
        loss += (1 - c) * (1 - c);
        G[i * D + j] = 2 * double(g) * (c - 1);
      } else {
        loss += double(lambda) * c * c;
        G[i * D + j] = 2 * double(g) * double(lambda) * c;
      }
    }
  // ∂/∂ẑ1[n, i] = Σ_j ẑ2[n, j] G[i, j] / N;  ∂/∂ẑ2[n, j] = Σ_i ẑ1[n, i] G[i, j] / N.
  std::vector<double> dzh[2] = {std::vector<double>(N * D), std::vector<double>(N * D)};
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < D; ++i)
      for (int64_t j = 0; j < D; ++j) {
        dzh[0][n * D + i] += zh[1][n * D + j] * G[i * D + j] / double(N);
        dzh[1][n * D + j] += zh[0][n * D + i] * G[i * D + j] / double(N);
      }
  // BN backward without affine: dz = invstd/N · (N dẑ − Σ dẑ − ẑ Σ dẑ ẑ), per column.
  T* dz[2] = {dz1, dz2};
  for (int v = 0; v < 2; ++v)
    for (int64_t j = 0; j < D; ++j) {
      double s = 0, sx = 0;
      for (int64_t n = 0; n < N; ++n) {
        s += dzh[v][n * D + j];
        sx += dzh[v][n * D + j] * zh[v][n * D + j];
      }
      for (int64_t n = 0; n < N; ++n) {
        const int64_t k = n * D + j;
        dz[v][k] = T(invstd[v][j] / double(N) * (double(N) * dzh[v][k] - s - zh[v][k] * sx));
      }
    }
  return T(loss);
}

int64_t barlow_twins_workspace_size(int64_t N, int64_t D) { return D * D + N * D + 6 * D; }

namespace {

// Column statistics of z (N, D) for the BN of ẑ = (z − mean)·invstd, in double and in two
// passes (the mean, then Σ(z − mean)²): with means ≈ ±1000 and std ≈ 1 a float mean, or the
// expansion x·invstd − mean·invstd, loses ~ε·1000 of every ẑ. The mean is kept as a pair
// hi + lo of T, so that (z − hi) − lo is exact up to one rounding of a value of size std
// (z − hi is exact when z and hi are within a factor 2, Sterbenz).
//   hi, lo, invstd (D) (=).
template <class T>
void bn_column_stats(int64_t N, int64_t D, const T* z, T* hi, T* lo, T* invstd) {
  constexpr int64_t kCols = 64;
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
  for (int64_t c0 = 0; c0 < D; c0 += kCols) {
    const int64_t nc = std::min(kCols, D - c0);
    double mean[kCols] = {}, q[kCols] = {};
    for (int64_t n = 0; n < N; ++n) {
      const T* r = z + n * D + c0;
#pragma omp simd
      for (int64_t c = 0; c < nc; ++c) mean[c] += double(r[c]);
    }
    for (int64_t c = 0; c < nc; ++c) mean[c] /= double(N);
    for (int64_t n = 0; n < N; ++n) {
      const T* r = z + n * D + c0;
#pragma omp simd
      for (int64_t c = 0; c < nc; ++c) q[c] += (double(r[c]) - mean[c]) * (double(r[c]) - mean[c]);
    }
    for (int64_t c = 0; c < nc; ++c) {
      hi[c0 + c] = T(mean[c]);
      lo[c0 + c] = T(mean[c] - double(hi[c0 + c]));
      invstd[c0 + c] = T(1.0 / std::sqrt(q[c] / double(N) + kBarlowTwinsBnEps));
    }
  }
}

// ẑ = ((z − hi) − lo)·invstd: z (N, D) -> zh (N, D) (=).
template <class T>
void bn_columns_forward(int64_t N, int64_t D, const T* z, const T* hi, const T* lo,
                        const T* invstd, T* zh) {
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
  for (int64_t n = 0; n < N; ++n) {
    const T* r = z + n * D;
    T* o = zh + n * D;
#pragma omp simd
    for (int64_t c = 0; c < D; ++c) o[c] = ((r[c] - hi[c]) - lo[c]) * invstd[c];
  }
}

// The BN training backward without affine, per column, in the centred form (no term of the
// size of the mean): dz = invstd·((dẑ − mean_n dẑ) − ẑ·mean_n(dẑ ẑ)), ẑ recomputed from z as in
// bn_columns_forward, the two means in double. dzh, z (N, D) -> dz (N, D) (=); dz == dzh allowed.
template <class T>
void bn_columns_backward(int64_t N, int64_t D, const T* dzh, const T* z, const T* hi, const T* lo,
                         const T* invstd, T* dz) {
  constexpr int64_t kCols = 64;
  const int64_t blocks = (D + kCols - 1) / kCols;
  std::vector<T> mean_dy(D), mean_dyx(D);
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t c0 = b * kCols, nc = std::min(kCols, D - c0);
    double s[kCols] = {}, sx[kCols] = {};
    for (int64_t n = 0; n < N; ++n) {
      const int64_t o = n * D + c0;
#pragma omp simd
      for (int64_t c = 0; c < nc; ++c) {
        const T xh = ((z[o + c] - hi[c0 + c]) - lo[c0 + c]) * invstd[c0 + c];
        s[c] += double(dzh[o + c]);
        sx[c] += double(dzh[o + c]) * double(xh);
      }
    }
    for (int64_t c = 0; c < nc; ++c) {
      mean_dy[c0 + c] = T(s[c] / double(N));
      mean_dyx[c0 + c] = T(sx[c] / double(N));
    }
  }
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
  for (int64_t n = 0; n < N; ++n) {
    const T* r = z + n * D;
    const T* g = dzh + n * D;
    T* o = dz + n * D;
#pragma omp simd
    for (int64_t c = 0; c < D; ++c) {
      const T xh = ((r[c] - hi[c]) - lo[c]) * invstd[c];
      o[c] = invstd[c] * ((g[c] - mean_dy[c]) - xh * mean_dyx[c]);
    }
  }
}

}  // namespace

template <class T>
T barlow_twins_loss(int64_t N, int64_t D, const T* z1, const T* z2, T lambda, T g, T* dz1,
                    T* dz2, T* workspace, bool bf16_products) {
  if constexpr (!std::is_same_v<T, float>) {
    if (bf16_products) throw std::invalid_argument("barlow_twins_loss: bf16 products need float32 embeddings");
  }
  std::vector<T> owned;
  if (!workspace) {
    owned.resize(barlow_twins_workspace_size(N, D));
    workspace = owned.data();
  }
  T* C = workspace;     // (D, D): ẑ1ᵀ ẑ2, then G / N in place
  T* dzh1 = C + D * D;  // (N, D): ∂/∂ẑ1
  T* stats = dzh1 + N * D;  // (6, D): hi, lo, invstd of view 1, then of view 2
  T *hi1 = stats, *lo1 = hi1 + D, *invstd1 = lo1 + D;
  T *hi2 = invstd1 + D, *lo2 = hi2 + D, *invstd2 = lo2 + D;
  const T invN = T(1) / T(N);
  // Out = op(A) · op(B), unscaled (the 1/N of C and of the gradients is taken in the pass over C).
  auto product = [&](bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, const T* b, T* out) {
    if constexpr (std::is_same_v<T, float>) {
      if (bf16_products) return gemm_bf16(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, out, n);
    }
    gemm(ta, tb, m, n, k, T(1), a, ta ? m : k, b, tb ? k : n, T(0), out, n);
  };

  // ẑ1 -> dz1, ẑ2 -> dz2 (the outputs double as the ẑ buffers until the gradient GEMMs).
  bn_column_stats(N, D, z1, hi1, lo1, invstd1);
  bn_column_stats(N, D, z2, hi2, lo2, invstd2);
  bn_columns_forward(N, D, z1, hi1, lo1, invstd1, dz1);
  bn_columns_forward(N, D, z2, hi2, lo2, invstd2, dz2);
  product(true, false, D, D, N, dz1, dz2, C);  // N·C = ẑ1ᵀ ẑ2

  // One pass over C: the loss terms, and C overwritten by G / N, G = g ∂L/∂C.
  double loss = 0;
  const T off_scale = T(2) * g * lambda * invN * invN;  // N·C_ij -> G_ij / N
#pragma omp parallel for schedule(static) reduction(+ : loss) if (D * D >= kParallelMin)
  for (int64_t i = 0; i < D; ++i) {
    T* row = C + i * D;
    const double cii = double(row[i]) * double(invN);
    double off = 0;  // Σ_{j≠i} (N·C_ij)²
#pragma omp simd reduction(+ : off)
    for (int64_t j = 0; j < i; ++j) off += double(row[j]) * row[j];
#pragma omp simd reduction(+ : off)
    for (int64_t j = i + 1; j < D; ++j) off += double(row[j]) * row[j];
    loss += (1 - cii) * (1 - cii) + double(lambda) * off * double(invN) * double(invN);
#pragma omp simd
    for (int64_t j = 0; j < D; ++j) row[j] *= off_scale;
    row[i] = T(2 * double(g) * (cii - 1) * double(invN));
  }

  product(false, true, N, D, D, dz2, C, dzh1);  // ∂/∂ẑ1 = ẑ2 Gᵀ / N
  product(false, false, N, D, D, dz1, C, dz2);  // ∂/∂ẑ2 = ẑ1 G / N (ẑ2 done)
  bn_columns_backward(N, D, dzh1, z1, hi1, lo1, invstd1, dz1);
  bn_columns_backward(N, D, dz2, z2, hi2, lo2, invstd2, dz2);
  return T(loss);
}

// ---------------------------------------------------------------------------------------------
// NT-Xent

template <class T>
T nt_xent_loss_ref(int64_t N, int64_t D, const T* z, T tau, T g, T* dz) {
  const int64_t M = 2 * N;
  std::vector<double> S(M * M), lse(M);
  double loss = 0;
  for (int64_t i = 0; i < M; ++i) {
    double mx = -INFINITY;
    for (int64_t j = 0; j < M; ++j) {
      double s = 0;
      for (int64_t d = 0; d < D; ++d) s += double(z[i * D + d]) * z[j * D + d];
      S[i * M + j] = j == i ? -INFINITY : s / double(tau);
      mx = std::max(mx, S[i * M + j]);
    }
    double sum = 0;
    for (int64_t j = 0; j < M; ++j) sum += std::exp(S[i * M + j] - mx);  // exp(−∞) = 0
    lse[i] = mx + std::log(sum);
    loss += lse[i] - S[i * M + positive(i, N)];
  }
  if (dz) {
    // ∂L/∂z_k = g/(2Nτ) [Σ_j (p_kj + p_jk) z_j − 2 z_pos(k)]
    const double coef = double(g) / (double(M) * double(tau));
    for (int64_t k = 0; k < M; ++k)
      for (int64_t d = 0; d < D; ++d) {
        double acc = -2.0 * z[positive(k, N) * D + d];
        for (int64_t j = 0; j < M; ++j) {
          const double pkj = std::exp(S[k * M + j] - lse[k]), pjk = std::exp(S[j * M + k] - lse[j]);
          acc += (pkj + pjk) * z[j * D + d];
        }
        dz[k * D + d] = T(coef * acc);
      }
  }
  return T(loss / double(M));
}

namespace {

// softplus(x) = log(1 + e^x), without overflow for large x; softplus(−∞) = 0.
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// a·b accumulated in double.
template <class T>
double dot_double(const T* a, const T* b, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += double(a[i]) * double(b[i]);
  return s;
}

}  // namespace

template <class T>
T nt_xent_forward(int64_t N, int64_t D, const T* z, T tau, T* saved) {
  const int64_t M = 2 * N, blocks = (M + kRowBlock - 1) / kRowBlock;
  const T inv_tau = T(1) / tau;
  T* lse = saved;      // (M)
  T* q = saved + M;    // (M)
  double total = 0;
#pragma omp parallel reduction(+ : total) if (M * M * D >= kNtXentParallelMin)
  {
    std::vector<T> S(kRowBlock * kColTile);  // (nb, nt) similarity tile
    // Inside the parallel region each OpenBLAS call runs on its calling thread.
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t r0 = b * kRowBlock, nb = std::min(kRowBlock, M - r0);
      T m[kRowBlock];       // running max of each row's negatives
      double l[kRowBlock];  // running Σ exp(s − m) over the negatives
      std::fill(m, m + nb, T(-INFINITY));
      std::fill(l, l + nb, 0.0);
      for (int64_t c0 = 0; c0 < M; c0 += kColTile) {
        const int64_t nt = std::min(kColTile, M - c0);
        gemm(false, true, nb, nt, D, inv_tau, z + r0 * D, D, z + c0 * D, D, T(0), S.data(), nt);
        for (int64_t i = 0; i < nb; ++i) {
          T* s = S.data() + i * nt;
          const int64_t diag = r0 + i - c0, pc = positive(r0 + i, N) - c0;
          if (diag >= 0 && diag < nt) s[diag] = T(-INFINITY);
          if (pc >= 0 && pc < nt) s[pc] = T(-INFINITY);  // the softmax runs over the negatives
          T mt = T(-INFINITY);
#pragma omp simd reduction(max : mt)
          for (int64_t j = 0; j < nt; ++j) mt = std::max(mt, s[j]);
          if (mt == T(-INFINITY)) continue;  // a tile holding only excluded columns
          const T mn = std::max(m[i], mt);
          double sum = 0;
          for (int64_t j = 0; j < nt; ++j) sum += std::exp(s[j] - mn);
          l[i] = l[i] * std::exp(double(m[i]) - double(mn)) + sum;  // rescale to the new max
          m[i] = mn;
        }
      }
      for (int64_t i = 0; i < nb; ++i) {
        const int64_t k = r0 + i;
        // s_pos in double: its rounding error in float (a GEMM's, ~ε·√D/τ) would shift every
        // ℓ and q of the row alike, where the negatives' errors average out.
        const double s_pos = dot_double(z + k * D, z + positive(k, N) * D, D) / double(tau);
        // lse_neg = −∞ when there are no negatives (N = 1): then ℓ = 0.
        const double lse_neg = double(m[i]) + std::log(l[i]);
        const double row_loss = softplus(lse_neg - s_pos);
        lse[k] = T(s_pos + row_loss);
        q[k] = T(-std::expm1(-row_loss));  // 1 − p_pos = 1 − exp(−ℓ)
        total += row_loss;
      }
    }
  }
  return T(total / double(M));
}

template <class T>
void nt_xent_backward(int64_t N, int64_t D, const T* z, T tau, const T* saved, T g, T* dz) {
  const int64_t M = 2 * N, blocks = (M + kRowBlock - 1) / kRowBlock;
  const T inv_tau = T(1) / tau, coef = g / (T(M) * tau);
  const T* lse = saved;
  const T* q = saved + M;
#pragma omp parallel if (M * M * D >= kNtXentParallelMin)
  {
    std::vector<T> W(kRowBlock * kColTile);  // (nb, nt): the tile S, then P + pᵀ in place
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t r0 = b * kRowBlock, nb = std::min(kRowBlock, M - r0);
      T* out = dz + r0 * D;  // (nb, D): accumulates Σ_j (p_kj + p_jk) z_j over the negatives
      std::fill(out, out + nb * D, T(0));
      for (int64_t c0 = 0; c0 < M; c0 += kColTile) {
        const int64_t nt = std::min(kColTile, M - c0);
        gemm(false, true, nb, nt, D, inv_tau, z + r0 * D, D, z + c0 * D, D, T(0), W.data(), nt);
        for (int64_t i = 0; i < nb; ++i) {
          T* w = W.data() + i * nt;
          const T li = lse[r0 + i];
          const T* lc = lse + c0;
          for (int64_t j = 0; j < nt; ++j) w[j] = std::exp(w[j] - li) + std::exp(w[j] - lc[j]);
          const int64_t diag = r0 + i - c0, pc = positive(r0 + i, N) - c0;
          if (diag >= 0 && diag < nt) w[diag] = T(0);  // p_kk = 0
          if (pc >= 0 && pc < nt) w[pc] = T(0);        // the positive pair: the q term below
        }
        gemm(false, false, nb, D, nt, T(1), W.data(), nt, z + c0 * D, D, T(1), out, D);
      }
      for (int64_t i = 0; i < nb; ++i) {
        const int64_t k = r0 + i, pk = positive(k, N);
        const T q_pair = q[k] + q[pk];  // row k's 1 − p_pos, and row pos(k)'s (its positive is k)
        const T* zp = z + pk * D;
        T* o = out + i * D;
#pragma omp simd
        for (int64_t d = 0; d < D; ++d) o[d] = coef * (o[d] - q_pair * zp[d]);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// BYOL / SimSiam

template <class T>
T byol_loss_ref(int64_t N, int64_t D, const T* p, const T* t, T g, T* dp) {
  double loss = 0;
  for (int64_t i = 0; i < N; ++i) {
    double pp = 0, tt = 0, pt = 0;
    for (int64_t d = 0; d < D; ++d) {
      pp += double(p[i * D + d]) * p[i * D + d];
      tt += double(t[i * D + d]) * t[i * D + d];
      pt += double(p[i * D + d]) * t[i * D + d];
    }
    const double np = std::sqrt(pp), dpn = std::max(np, kByolNormEps);
    const double dtn = std::max(std::sqrt(tt), kByolNormEps);
    const double c = pt / (dpn * dtn);  // p̂·t̂
    loss += 2 - 2 * c;
    if (!dp) continue;
    const double s = -2.0 * double(g) / double(N);
    for (int64_t d = 0; d < D; ++d) {
      const double ph = p[i * D + d] / dpn, th = t[i * D + d] / dtn;
      dp[i * D + d] = T(np > kByolNormEps ? s * (th - ph * c) / np : s * th / kByolNormEps);
    }
  }
  return T(loss / double(N));
}

template <class T>
T byol_loss(int64_t N, int64_t D, const T* p, const T* t, T g, T* dp) {
  double loss = 0;
  const T eps = T(kByolNormEps), s = T(-2) * g / T(N);
#pragma omp parallel for schedule(static) reduction(+ : loss) if (N * D >= kParallelMin)
  for (int64_t i = 0; i < N; ++i) {
    const T* pi = p + i * D;
    const T* ti = t + i * D;
    T pp = 0, tt = 0, pt = 0;
#pragma omp simd reduction(+ : pp, tt, pt)
    for (int64_t d = 0; d < D; ++d) {
      pp += pi[d] * pi[d];
      tt += ti[d] * ti[d];
      pt += pi[d] * ti[d];
    }
    const T np = std::sqrt(pp), dpn = std::max(np, eps), dtn = std::max(std::sqrt(tt), eps);
    const T c = pt / dpn / dtn;
    loss += 2 - 2 * double(c);
    if (!dp) continue;
    // dp = s (t̂ − p̂ c)/||p|| = (s/(||p|| dtn)) t − (s c/||p||²) p; below eps: (s/(eps dtn)) t.
    const T at = s / dpn / dtn, ap = np > eps ? -s * c / np / np : T(0);
#pragma omp simd
    for (int64_t d = 0; d < D; ++d) dp[i * D + d] = at * ti[d] + ap * pi[d];
  }
  return T(loss / double(N));
}

#define BT_INSTANTIATE(T)                                                                    \
  template T barlow_twins_loss_ref<T>(int64_t, int64_t, const T*, const T*, T, T, T*, T*);   \
  template T barlow_twins_loss<T>(int64_t, int64_t, const T*, const T*, T, T, T*, T*, T*, bool); \
  template T nt_xent_loss_ref<T>(int64_t, int64_t, const T*, T, T, T*);                      \
  template T nt_xent_forward<T>(int64_t, int64_t, const T*, T, T*);                          \
  template void nt_xent_backward<T>(int64_t, int64_t, const T*, T, const T*, T, T*);         \
  template T byol_loss_ref<T>(int64_t, int64_t, const T*, const T*, T, T*);                  \
  template T byol_loss<T>(int64_t, int64_t, const T*, const T*, T, T*);
BT_INSTANTIATE(float)
BT_INSTANTIATE(double)
#undef BT_INSTANTIATE

}  // namespace bt::cpu
