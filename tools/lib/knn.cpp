#include "tools/lib/knn.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/ops.h"

namespace bt::tools {

namespace {

// Row-wise x / max(‖x‖₂, 1e-12) of an (N, F) tensor, as F.normalize, into a packed buffer.
std::vector<float> normalized_rows(const Tensor& x) {
  const Tensor c = x.contiguous();
  const int64_t n = c.size(0), f = c.size(1);
  std::vector<float> out(size_t(n * f));
  const float* src = c.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    double ss = 0;
    for (int64_t j = 0; j < f; ++j) ss += double(src[i * f + j]) * src[i * f + j];
    const double inv = 1.0 / std::max(std::sqrt(ss), 1e-12);
    for (int64_t j = 0; j < f; ++j) out[size_t(i * f + j)] = float(src[i * f + j] * inv);
  }
  return out;
}

void check_inputs(const Tensor& feats, const std::vector<int64_t>& labels, int64_t num_classes,
                  const char* which) {
  BT_CHECK(feats.defined() && feats.dim() == 2, "knn: ", which, " features must be (N, F)");
  BT_CHECK(feats.dtype() == DType::f32 && feats.device() == Device::cpu, "knn: ", which,
           " features must be float32 on the CPU");
  BT_CHECK(int64_t(labels.size()) == feats.size(0), "knn: ", which, " has ", feats.size(0),
           " feature rows but ", labels.size(), " labels");
  for (int64_t y : labels)
    BT_CHECK(y >= 0 && y < num_classes, "knn: ", which, " label ", y, " outside [0, ",
             num_classes, ")");
}

}  // namespace

KnnResult knn_classify(const Tensor& train_feats, const std::vector<int64_t>& train_labels,
                       const Tensor& test_feats, const std::vector<int64_t>& test_labels,
                       int64_t num_classes, const KnnOptions& options) {
  BT_CHECK(num_classes >= 1, "knn: num_classes must be positive");
  BT_CHECK(options.k >= 1, "knn: k must be at least 1, got ", options.k);
  BT_CHECK(options.temperature > 0, "knn: temperature must be positive, got ", options.temperature);
  BT_CHECK(options.chunk >= 1, "knn: chunk must be at least 1");
  check_inputs(train_feats, train_labels, num_classes, "train");
  check_inputs(test_feats, test_labels, num_classes, "test");
  const int64_t n_train = train_feats.size(0), n_test = test_feats.size(0), f = train_feats.size(1);
  BT_CHECK(n_train >= 1, "knn: no training samples");
  BT_CHECK(test_feats.size(1) == f, "knn: train features have ", f, " columns, test features ",
           test_feats.size(1));

  KnnResult result;
  result.k = std::min(options.k, n_train);
  result.predictions.resize(size_t(n_test));
  if (n_test == 0) return result;

  const Tensor bank = Tensor::from_vector(normalized_rows(train_feats), {n_train, f});  // (N_train, F)
  const Tensor query = Tensor::from_vector(normalized_rows(test_feats), {n_test, f});   // (N_test, F)
  const int64_t k = result.k, chunk = std::min(options.chunk, n_test);
  int64_t correct1 = 0, correct5 = 0;

  for (int64_t r0 = 0; r0 < n_test; r0 += chunk) {
    const int64_t rows = std::min(chunk, n_test - r0);
    const Tensor sims = matmul(query.slice(0, r0, r0 + rows), bank.t());  // (rows, N_train) cosines
#pragma omp parallel for schedule(dynamic, 8) reduction(+ : correct1, correct5)
    for (int64_t r = 0; r < rows; ++r) {
      const float* s = sims.data<float>() + r * n_train;
      std::vector<int64_t> idx(static_cast<size_t>(n_train));
      std::iota(idx.begin(), idx.end(), 0);
      std::nth_element(idx.begin(), idx.begin() + (k - 1), idx.end(),
                       [s](int64_t a, int64_t b) { return s[a] > s[b]; });
      // Weights exp((s − s_max)/T): the common factor exp(s_max/T) cancels in the argmax and
      // keeps small temperatures from overflowing.
      float s_max = s[idx[0]];
      for (int64_t j = 1; j < k; ++j) s_max = std::max(s_max, s[idx[size_t(j)]]);
      std::vector<double> score(size_t(num_classes), 0.0);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t i = idx[size_t(j)];
        score[size_t(train_labels[size_t(i)])] += std::exp((double(s[i]) - s_max) / options.temperature);
      }
      const int64_t y = test_labels[size_t(r0 + r)];
      // rank of the true class: classes scoring higher, or equal with a lower index.
      int64_t rank = 0, best = 0;
      for (int64_t c = 0; c < num_classes; ++c) {
        if (score[size_t(c)] > score[size_t(best)]) best = c;
        if (score[size_t(c)] > score[size_t(y)] || (score[size_t(c)] == score[size_t(y)] && c < y)) ++rank;
      }
      result.predictions[size_t(r0 + r)] = best;
      correct1 += best == y;
      correct5 += rank < 5;
    }
  }
  result.top1 = double(correct1) / double(n_test);
  if (num_classes >= 5) result.top5 = double(correct5) / double(n_test);
  return result;
}

}  // namespace bt::tools
