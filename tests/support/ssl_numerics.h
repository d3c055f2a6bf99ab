#pragma once
// Regimes where a float32 evaluation of an SSL loss gradient loses accuracy by cancellation,
// the float64 references of those gradients, and the yardstick the fused kernels must match
// (tests/test_ssl_numerics.cpp for the CPU kernels, tests/test_cuda_ssl_numerics.cpp for the
// CUDA kernels on the emulator).
//
// The yardstick stands in for PyTorch float32, which is not available here: the same gradient
// composed the way autograd composes it (normalize, GEMM, log_softmax or batch_norm, their
// backwards), every primitive correctly rounded to float — each GEMM, sum and mean is taken in
// double and rounded once, each elementwise op is one float op. That is at least as accurate as
// PyTorch's float kernels (whose GEMMs and sums round at every step), so a fused kernel whose
// error against float64 is no larger than the yardstick's is at PyTorch-float32 accuracy or
// better. Its error is ~ε32 × the condition of the composed formula: NT-Xent's log_softmax
// backward forms p_pos − 1 (≈ −q, q = 1 − p_pos) by subtraction, an absolute error ε32 in a
// term of size q; batch_norm rounds the mean of values near ±1000 to float (an error of
// ε32·1000 in x − mean, whose size is the std).
//
// All references and yardsticks are plain loops written for the tests, independent of the
// kernels under test.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tests/support/random_vector.h"

namespace bt::testing::ssl_numerics {

inline int64_t positive(int64_t i, int64_t N) { return i < N ? i + N : i - N; }

// max |got − ref| / max |ref|: the error of a gradient relative to its scale.
template <class T>
double relative_error(const std::vector<T>& got, const std::vector<double>& ref) {
  double err = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    err = std::max(err, std::fabs(double(got[i]) - ref[i]));
    scale = std::max(scale, std::fabs(ref[i]));
  }
  return err / scale;
}

// ---------------------------------------------------------------------------------------------
// NT-Xent with nearly aligned views: z (2N, D) rows of unit norm, row i + N = row i plus noise of
// relative size `noise`, renormalized. At N = 128, D = 128, τ = 0.1, noise 0.05 the loss is
// ≈ 0.02: each row's positive holds all but ≈ 2% of its softmax mass.
inline std::vector<float> aligned_views(int64_t N, int64_t D, double noise, uint64_t seed) {
  std::vector<double> z = randv<double>(size_t(2 * N * D), seed);
  for (int64_t i = 0; i < N; ++i)
    for (int64_t d = 0; d < D; ++d) z[(i + N) * D + d] = z[i * D + d] + noise * z[(i + N) * D + d];
  std::vector<float> out(z.size());
  for (int64_t i = 0; i < 2 * N; ++i) {
    double q = 0;
    for (int64_t d = 0; d < D; ++d) q += z[i * D + d] * z[i * D + d];
    for (int64_t d = 0; d < D; ++d) out[i * D + d] = float(z[i * D + d] / std::sqrt(q));
  }
  return out;
}

struct Shape {
  int64_t N, D;
};
// 2N = 256 rows: several 64-row tiles (and column splits in the CUDA kernels); 2N = 64: one tile.
inline constexpr Shape kNtXentShapes[] = {{128, 128}, {32, 64}};

struct NtXent64 {
  double loss;
  std::vector<double> dz;  // (2N, D): ∂loss/∂z
};

// float64: s_ij = z_i·z_j/τ (j ≠ i), loss = (1/2N) Σ_i (lse_i − s_i,pos(i)),
// ∂loss/∂s_ij = (p_ij − [j = pos(i)])/2N, ∂loss/∂z_k = Σ_j (∂s_kj + ∂s_jk) z_j / τ.
inline NtXent64 nt_xent_float64(int64_t N, int64_t D, const std::vector<float>& z, double tau) {
  const int64_t M = 2 * N;
  std::vector<double> ds(size_t(M * M));
  double loss = 0;
  for (int64_t i = 0; i < M; ++i) {
    std::vector<double> s(static_cast<size_t>(M));
    double mx = -INFINITY;
    for (int64_t j = 0; j < M; ++j) {
      double dot = 0;
      for (int64_t d = 0; d < D; ++d) dot += double(z[i * D + d]) * double(z[j * D + d]);
      s[j] = dot / tau;
      if (j != i) mx = std::max(mx, s[j]);
    }
    double sum = 0;
    for (int64_t j = 0; j < M; ++j)
      if (j != i) sum += std::exp(s[j] - mx);
    const double lse = mx + std::log(sum);
    loss += (lse - s[positive(i, N)]) / double(M);
    for (int64_t j = 0; j < M; ++j)
      ds[i * M + j] = j == i ? 0.0 : (std::exp(s[j] - lse) - (j == positive(i, N))) / double(M);
  }
  std::vector<double> dz(size_t(M * D), 0.0);
  for (int64_t k = 0; k < M; ++k)
    for (int64_t j = 0; j < M; ++j) {
      const double w = (ds[k * M + j] + ds[j * M + k]) / tau;
      for (int64_t d = 0; d < D; ++d) dz[k * D + d] += w * double(z[j * D + d]);
    }
  return {loss, dz};
}

// The yardstick: logits = z zᵀ/τ with the diagonal masked, log_softmax per row, NLL of the
// positive averaged over the 2N rows, and autograd's backward: dlogits = (exp(lp) − onehot)/2N,
// dz = (dlogits + dlogitsᵀ) z / τ. Returns the loss and dz, both in float.
inline std::pair<float, std::vector<float>> nt_xent_float32_composed(int64_t N, int64_t D,
                                                                     const std::vector<float>& z,
                                                                     float tau) {
  const int64_t M = 2 * N;
  std::vector<float> dl(size_t(M * M));  // dlogits
  double loss = 0;
  for (int64_t i = 0; i < M; ++i) {
    std::vector<float> s(static_cast<size_t>(M));
    float mx = -INFINITY;
    for (int64_t j = 0; j < M; ++j) {
      double dot = 0;
      for (int64_t d = 0; d < D; ++d) dot += double(z[i * D + d]) * double(z[j * D + d]);
      s[j] = j == i ? -INFINITY : float(dot) / tau;
      mx = std::max(mx, s[j]);
    }
    double sum = 0;
    for (int64_t j = 0; j < M; ++j) sum += double(std::exp(s[j] - mx));
    const float log_sum = std::log(float(sum));
    for (int64_t j = 0; j < M; ++j) {
      const float lp = (s[j] - mx) - log_sum;  // log_softmax
      if (j == positive(i, N)) loss -= double(lp);
      dl[i * M + j] = (std::exp(lp) - (j == positive(i, N) ? 1.0f : 0.0f)) / float(M);
    }
  }
  std::vector<float> dz(size_t(M * D));
  for (int64_t k = 0; k < M; ++k)
    for (int64_t d = 0; d < D; ++d) {
      double acc = 0;
      for (int64_t j = 0; j < M; ++j)
        acc += double(dl[k * M + j] / tau + dl[j * M + k] / tau) * double(z[j * D + d]);
      dz[k * D + d] = float(acc);
    }
  return {float(loss / double(M)), dz};
}

// ---------------------------------------------------------------------------------------------
// Barlow Twins with embeddings of large mean: z1, z2 (N, D), column c of both views centred at
// ±`offset` (alternating sign, plus a random part of size 1), std ≈ 0.6; the views share a
// common part u so that C has a strong diagonal: z_v = mean_c + u + 0.5 e_v.
inline std::pair<std::vector<float>, std::vector<float>> offset_views(int64_t N, int64_t D,
                                                                      double offset,
                                                                      uint64_t seed) {
  const std::vector<double> u = randv<double>(size_t(N * D), seed),
                            e1 = randv<double>(size_t(N * D), seed + 1),
                            e2 = randv<double>(size_t(N * D), seed + 2),
                            shift = randv<double>(size_t(D), seed + 3);
  std::vector<float> z1(size_t(N * D)), z2(size_t(N * D));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < D; ++c) {
      const size_t k = size_t(n * D + c);
      const double mean = (c % 2 ? -offset : offset) + shift[c];
      z1[k] = float(mean + u[k] + 0.5 * e1[k]);
      z2[k] = float(mean + u[k] + 0.5 * e2[k]);
    }
  return {z1, z2};
}

struct BarlowTwins64 {
  double loss;
  std::vector<double> dz1, dz2;  // (N, D): ∂loss/∂z1, ∂loss/∂z2
};

constexpr double kBnEps = 1e-5;  // BatchNorm1d's eps, as in the Barlow Twins loss

// float64: ẑ = (z − mean)/sqrt(var + eps) per column (two passes, biased var); C = ẑ1ᵀ ẑ2 / N;
// loss = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij²; G = ∂loss/∂C; dẑ1 = ẑ2 Gᵀ / N, dẑ2 = ẑ1 G / N; then
// the batch-norm backward dz = invstd · (dẑ − mean_n dẑ − ẑ mean_n(dẑ ẑ)) per column.
inline BarlowTwins64 barlow_twins_float64(int64_t N, int64_t D, const std::vector<float>& z1,
                                          const std::vector<float>& z2, double lambda) {
  const std::vector<float>* z[2] = {&z1, &z2};
  std::vector<double> zh[2], invstd[2];
  for (int v = 0; v < 2; ++v) {
    zh[v].resize(size_t(N * D));
    invstd[v].resize(size_t(D));
    for (int64_t c = 0; c < D; ++c) {
      double mean = 0, var = 0;
      for (int64_t n = 0; n < N; ++n) mean += double((*z[v])[n * D + c]) / double(N);
      for (int64_t n = 0; n < N; ++n) var += std::pow(double((*z[v])[n * D + c]) - mean, 2) / double(N);
      invstd[v][c] = 1 / std::sqrt(var + kBnEps);
      for (int64_t n = 0; n < N; ++n) zh[v][n * D + c] = (double((*z[v])[n * D + c]) - mean) * invstd[v][c];
    }
  }
  std::vector<double> G(size_t(D * D));
  double loss = 0;
  for (int64_t i = 0; i < D; ++i)
    for (int64_t j = 0; j < D; ++j) {
      double c = 0;
      for (int64_t n = 0; n < N; ++n) c += zh[0][n * D + i] * zh[1][n * D + j] / double(N);
      loss += i == j ? (1 - c) * (1 - c) : lambda * c * c;
      G[i * D + j] = i == j ? 2 * (c - 1) : 2 * lambda * c;
    }
  std::vector<double> dzh[2] = {std::vector<double>(size_t(N * D)), std::vector<double>(size_t(N * D))};
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < D; ++i)
      for (int64_t j = 0; j < D; ++j) {
        dzh[0][n * D + i] += zh[1][n * D + j] * G[i * D + j] / double(N);
        dzh[1][n * D + j] += zh[0][n * D + i] * G[i * D + j] / double(N);
      }
  BarlowTwins64 out{loss, std::vector<double>(size_t(N * D)), std::vector<double>(size_t(N * D))};
  std::vector<double>* dz[2] = {&out.dz1, &out.dz2};
  for (int v = 0; v < 2; ++v)
    for (int64_t c = 0; c < D; ++c) {
      double mean_dy = 0, mean_dyx = 0;
      for (int64_t n = 0; n < N; ++n) {
        mean_dy += dzh[v][n * D + c] / double(N);
        mean_dyx += dzh[v][n * D + c] * zh[v][n * D + c] / double(N);
      }
      for (int64_t n = 0; n < N; ++n) {
        const int64_t k = n * D + c;
        (*dz[v])[k] = invstd[v][c] * (dzh[v][k] - mean_dy - zh[v][k] * mean_dyx);
      }
    }
  return out;
}

// The yardstick: batch_norm (mean and biased var per column, each a correctly rounded float;
// x̂ = (x − mean)·invstd in float), C = x̂1ᵀ x̂2 / N, the loss's G, the two gradient GEMMs, and
// batch_norm's backward dx = ((dx̂ − mean dx̂) − x̂·mean(dx̂ x̂))·invstd in float.
inline std::pair<std::vector<float>, std::vector<float>> barlow_twins_float32_composed(
    int64_t N, int64_t D, const std::vector<float>& z1, const std::vector<float>& z2,
    float lambda) {
  const std::vector<float>* z[2] = {&z1, &z2};
  std::vector<float> zh[2], invstd[2];
  for (int v = 0; v < 2; ++v) {
    zh[v].resize(size_t(N * D));
    invstd[v].resize(size_t(D));
    for (int64_t c = 0; c < D; ++c) {
      double s = 0;
      for (int64_t n = 0; n < N; ++n) s += double((*z[v])[n * D + c]);
      const float mean = float(s / double(N));
      double q = 0;
      for (int64_t n = 0; n < N; ++n) {
        const float d = (*z[v])[n * D + c] - mean;
        q += double(d) * double(d);
      }
      invstd[v][c] = 1.0f / std::sqrt(float(q / double(N)) + float(kBnEps));
      for (int64_t n = 0; n < N; ++n) zh[v][n * D + c] = ((*z[v])[n * D + c] - mean) * invstd[v][c];
    }
  }
  std::vector<float> G(size_t(D * D));
  for (int64_t i = 0; i < D; ++i)
    for (int64_t j = 0; j < D; ++j) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n) acc += double(zh[0][n * D + i]) * double(zh[1][n * D + j]);
      const float c = float(acc / double(N));
      G[i * D + j] = i == j ? 2.0f * (c - 1.0f) : 2.0f * lambda * c;
    }
  std::vector<float> dzh[2] = {std::vector<float>(size_t(N * D)), std::vector<float>(size_t(N * D))};
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < D; ++i) {
      double a1 = 0, a2 = 0;  // dẑ1[n, i] = Σ_j ẑ2[n, j] G[i, j] / N; dẑ2[n, i] = Σ_j ẑ1[n, j] G[j, i] / N
      for (int64_t j = 0; j < D; ++j) {
        a1 += double(zh[1][n * D + j]) * double(G[i * D + j]);
        a2 += double(zh[0][n * D + j]) * double(G[j * D + i]);
      }
      dzh[0][n * D + i] = float(a1 / double(N));
      dzh[1][n * D + i] = float(a2 / double(N));
    }
  std::vector<float> dz[2] = {std::vector<float>(size_t(N * D)), std::vector<float>(size_t(N * D))};
  for (int v = 0; v < 2; ++v)
    for (int64_t c = 0; c < D; ++c) {
      double s = 0, sx = 0;
      for (int64_t n = 0; n < N; ++n) {
        s += double(dzh[v][n * D + c]);
        sx += double(dzh[v][n * D + c]) * double(zh[v][n * D + c]);
      }
      const float mean_dy = float(s / double(N)), mean_dyx = float(sx / double(N));
      for (int64_t n = 0; n < N; ++n) {
        const int64_t k = n * D + c;
        dz[v][k] = ((dzh[v][k] - mean_dy) - zh[v][k] * mean_dyx) * invstd[v][c];
      }
    }
  return {dz[0], dz[1]};
}

}  // namespace bt::testing::ssl_numerics
