#include "tools/lib/collapse.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "engine/ops.h"

// LAPACK (OpenBLAS's liblapack): eigenvalues (jobz = 'N') of a symmetric matrix, ascending in w.
extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                       double* w, double* work, const int* lwork, int* info);

namespace bt::tools {

namespace {

// Z as a contiguous (N, D) float64 buffer; checks the shape.
std::vector<double> as_f64(const Tensor& z, const char* fn, int64_t min_rows) {
  BT_CHECK(z.defined() && z.dim() == 2, fn, ": embeddings must be (N, D)");
  BT_CHECK(z.size(0) >= min_rows, fn, ": needs at least ", min_rows, " rows, got ", z.size(0));
  BT_CHECK(z.size(1) >= 1, fn, ": embeddings have no columns");
  return z.to(Device::cpu).to_vector();
}

bool all_finite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

// Eigenvalues of the symmetric (n, n) matrix a (overwritten), ascending.
std::vector<double> symmetric_eigenvalues(std::vector<double>& a, int n) {
  std::vector<double> w(static_cast<size_t>(n));
  int info = 0, lwork = -1;
  double query = 0;
  dsyev_("N", "U", &n, a.data(), &n, w.data(), &query, &lwork, &info);  // workspace size
  lwork = std::max(int(query), 3 * n);
  std::vector<double> work(static_cast<size_t>(lwork));
  dsyev_("N", "U", &n, a.data(), &n, w.data(), work.data(), &lwork, &info);
  BT_CHECK(info == 0, "effective_rank: LAPACK dsyev failed (info ", info, ")");
  return w;
}

}  // namespace

double normalized_std(const Tensor& z) {
  std::vector<double> v = as_f64(z, "normalized_std", 2);
  if (!all_finite(v)) return std::nan("");
  const int64_t n = z.size(0), d = z.size(1);
  for (int64_t i = 0; i < n; ++i) {
    double ss = 0;
    for (int64_t j = 0; j < d; ++j) ss += v[size_t(i * d + j)] * v[size_t(i * d + j)];
    const double inv = 1.0 / std::max(std::sqrt(ss), 1e-12);
    for (int64_t j = 0; j < d; ++j) v[size_t(i * d + j)] *= inv;
  }
  double total = 0;
  for (int64_t j = 0; j < d; ++j) {
    double mean = 0;
    for (int64_t i = 0; i < n; ++i) mean += v[size_t(i * d + j)];
    mean /= double(n);
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += (v[size_t(i * d + j)] - mean) * (v[size_t(i * d + j)] - mean);
    total += std::sqrt(ss / double(n - 1));
  }
  return total / double(d);
}

double effective_rank(const Tensor& z) {
  std::vector<double> zc = as_f64(z, "effective_rank", 1);  // (N, D), centred below
  if (!all_finite(zc)) return std::nan("");
  const int64_t n = z.size(0), d = z.size(1);
  // Column means. For rows that are all equal the mean is exact (a sum of N equal floats is
  // exact in float64), so the centred matrix is exactly 0.
  for (int64_t j = 0; j < d; ++j) {
    double mean = 0;
    for (int64_t i = 0; i < n; ++i) mean += zc[size_t(i * d + j)];
    mean /= double(n);
    for (int64_t i = 0; i < n; ++i) zc[size_t(i * d + j)] -= mean;
  }
  // Gram matrix of the smaller side: G = Z_cᵀ Z_c (D, D) or Z_c Z_cᵀ (N, N); same non-zero σ².
  const bool by_columns = d <= n;
  const int64_t m = by_columns ? d : n;
  BT_CHECK(m <= 46340, "effective_rank: Gram matrix side ", m, " too large for LAPACK's int");
  const Tensor z_centred = Tensor::from_vector(zc, {n, d}, DType::f64);
  const Tensor g = by_columns ? matmul(z_centred.t(), z_centred) : matmul(z_centred, z_centred.t());
  std::vector<double> gram(g.data<double>(), g.data<double>() + m * m);
  const std::vector<double> lambda = symmetric_eigenvalues(gram, int(m));  // ascending
  const double lambda_max = lambda.back();
  if (!(lambda_max > 0)) return 0.0;  // Z_c = 0: collapsed (see the header)
  const double floor = double(m) * DBL_EPSILON * lambda_max;
  std::vector<double> sigma;
  double sigma_sum = 0;
  for (double l : lambda)
    if (l > floor) {
      sigma.push_back(std::sqrt(l));
      sigma_sum += sigma.back();
    }
  double entropy = 0;  // −Σ p log p
  for (double s : sigma) {
    const double p = s / sigma_sum;
    entropy -= p * std::log(p);
  }
  return std::exp(entropy);
}

CollapseMetrics collapse_metrics(const Tensor& z) {
  CollapseMetrics m;
  m.normalized_std = normalized_std(z);
  m.healthy_std = 1.0 / std::sqrt(double(z.size(1)));
  m.effective_rank = effective_rank(z);
  return m;
}

}  // namespace bt::tools
