#include "kernels/cpu/vicreg.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/gemm.h"

namespace bt::cpu {

namespace {
constexpr int64_t kParallelMin = 1 << 14;
}  // namespace

template <class T>
VicregTerms vicreg_loss_ref(int64_t N, int64_t D, const T* z1, const T* z2, const VicregWeights& w,
                            T g, T* dz1, T* dz2) {
  VicregTerms terms{0, 0, 0};
  const double gd = double(g), nm1 = double(N - 1);
  for (int64_t k = 0; k < N * D; ++k) {
    const double d = double(z1[k]) - double(z2[k]);
    terms.invariance += d * d;
    dz1[k] = T(gd * w.invariance * 2 * d / double(N * D));
    dz2[k] = T(-gd * w.invariance * 2 * d / double(N * D));
  }
  terms.invariance /= double(N * D);
  const T* zs[2] = {z1, z2};
  T* dzs[2] = {dz1, dz2};
  for (int v = 0; v < 2; ++v) {
    const T* z = zs[v];
    std::vector<double> zc(size_t(N * D)), C(size_t(D * D));
    for (int64_t j = 0; j < D; ++j) {
      double mean = 0;
      for (int64_t n = 0; n < N; ++n) mean += z[n * D + j];
      mean /= double(N);
      for (int64_t n = 0; n < N; ++n) zc[size_t(n * D + j)] = z[n * D + j] - mean;
    }
    for (int64_t i = 0; i < D; ++i)
      for (int64_t j = 0; j < D; ++j) {
        double c = 0;
        for (int64_t n = 0; n < N; ++n) c += zc[size_t(n * D + i)] * zc[size_t(n * D + j)];
        C[size_t(i * D + j)] = c / nm1;
      }
    for (int64_t j = 0; j < D; ++j) {
      const double s = std::sqrt(C[size_t(j * D + j)] + w.eps);
      terms.variance += std::max(0.0, w.gamma - s) / double(D);
      const double var_coef = w.gamma > s ? -w.variance / (double(D) * nm1 * s) : 0.0;
      for (int64_t n = 0; n < N; ++n) {
        double cov_grad = 0;  // Σ_{i≠j} z̄_ni C_ij
        for (int64_t i = 0; i < D; ++i)
          if (i != j) cov_grad += zc[size_t(n * D + i)] * C[size_t(i * D + j)];
        const double grad = var_coef * zc[size_t(n * D + j)] + w.covariance * 4 * cov_grad / (double(D) * nm1);
        dzs[v][n * D + j] = T(double(dzs[v][n * D + j]) + gd * grad);
      }
      for (int64_t i = 0; i < D; ++i)
        if (i != j) terms.covariance += C[size_t(i * D + j)] * C[size_t(i * D + j)] / double(D);
    }
  }
  return terms;
}

int64_t vicreg_workspace_size(int64_t N, int64_t D) { return N * D + D * D + D; }

template <class T>
VicregTerms vicreg_loss(int64_t N, int64_t D, const T* z1, const T* z2, const VicregWeights& w, T g,
                        T* dz1, T* dz2, T* workspace) {
  std::vector<T> owned;
  if (!workspace) {
    owned.resize(size_t(vicreg_workspace_size(N, D)));
    workspace = owned.data();
  }
  T* zc = workspace;     // (N, D): z̄ of the current view
  T* C = zc + N * D;     // (D, D): C, then G = 4gν offdiag(C) / (D (N − 1)) in place
  T* coef = C + D * D;   // (D): the column means, then the variance term's g ∂L/∂z̄ / z̄
  const double nm1 = double(N - 1);
  const bool parallel = N * D >= kParallelMin;
  VicregTerms terms{0, 0, 0};

  // Invariance, its gradient written first: dz1 = −dz2 = 2λg (z1 − z2) / (N·D).
  const T inv_scale = T(2 * w.invariance * double(g) / double(N * D));
  double inv = 0;
#pragma omp parallel for schedule(static) reduction(+ : inv) if (parallel)
  for (int64_t n = 0; n < N; ++n)
#pragma omp simd reduction(+ : inv)
    for (int64_t j = 0; j < D; ++j) {
      const int64_t k = n * D + j;
      const T d = z1[k] - z2[k];
      inv += double(d) * double(d);
      dz1[k] = inv_scale * d;
      dz2[k] = -inv_scale * d;
    }
  terms.invariance = inv / double(N * D);

  const T* zs[2] = {z1, z2};
  T* dzs[2] = {dz1, dz2};
  std::vector<double> col_sum(static_cast<size_t>(D));
  for (int v = 0; v < 2; ++v) {
    const T* z = zs[v];
    T* dz = dzs[v];
    std::fill(col_sum.begin(), col_sum.end(), 0.0);
    for (int64_t n = 0; n < N; ++n)
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) col_sum[size_t(j)] += double(z[n * D + j]);
    for (int64_t j = 0; j < D; ++j) coef[j] = T(col_sum[size_t(j)] / double(N));
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t n = 0; n < N; ++n)
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) zc[n * D + j] = z[n * D + j] - coef[j];
    gemm(true, false, D, D, N, T(1 / nm1), zc, D, zc, D, T(0), C, D);  // C = z̄ᵀ z̄ / (N − 1)

    // One pass over C: the hinge on each C_jj, Σ_{i≠j} C_ij², and C overwritten by
    // G = 4gν offdiag(C) / (D (N − 1)), so that g ν ∂cov/∂z = z̄ G (vicreg.h).
    const T cov_scale = T(4 * w.covariance * double(g) / (double(D) * nm1));
    double hinge = 0, off = 0;
#pragma omp parallel for schedule(static) reduction(+ : hinge, off) if (D * D >= kParallelMin)
    for (int64_t i = 0; i < D; ++i) {
      T* row = C + i * D;
      const double s = std::sqrt(double(row[i]) + w.eps);
      hinge += std::max(0.0, w.gamma - s);
      coef[i] = w.gamma > s ? T(-w.variance * double(g) / (double(D) * nm1 * s)) : T(0);
      double o = 0;
#pragma omp simd reduction(+ : o)
      for (int64_t j = 0; j < D; ++j) o += double(row[j]) * row[j];
      off += o - double(row[i]) * row[i];
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) row[j] *= cov_scale;
      row[i] = T(0);
    }
    terms.variance += hinge / double(D);
    terms.covariance += off / double(D);

    gemm(false, false, N, D, D, T(1), zc, D, C, D, T(1), dz, D);  // dz += z̄ G (G symmetric)
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t n = 0; n < N; ++n)
#pragma omp simd
      for (int64_t j = 0; j < D; ++j) dz[n * D + j] += coef[j] * zc[n * D + j];
  }
  return terms;
}

template VicregTerms vicreg_loss_ref<float>(int64_t, int64_t, const float*, const float*, const VicregWeights&,
                                            float, float*, float*);
template VicregTerms vicreg_loss_ref<double>(int64_t, int64_t, const double*, const double*,
                                             const VicregWeights&, double, double*, double*);
template VicregTerms vicreg_loss<float>(int64_t, int64_t, const float*, const float*, const VicregWeights&, float,
                                        float*, float*, float*);
template VicregTerms vicreg_loss<double>(int64_t, int64_t, const double*, const double*, const VicregWeights&,
                                         double, double*, double*, double*);

}  // namespace bt::cpu
