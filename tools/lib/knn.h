#pragma once
// The weighted kNN monitor of self-supervised learning (Wu et al. 2018, "Unsupervised Feature
// Learning via Non-Parametric Instance Discrimination", §3.4; solo-learn's WeightedKNNClassifier):
//   features are L2-normalised; for a test sample x the k training features with the highest
//   cosine similarity s_i = x·f_i vote for their labels with weight exp(s_i / T);
//   class score c = Σ_{i ∈ top-k, y_i = c} exp(s_i / T); prediction = argmax_c score.
#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace bt::tools {

struct KnnOptions {
  int64_t k = 200;           // neighbours; capped at the number of training samples
  double temperature = 0.1;  // T in exp(s / T)
  int64_t chunk = 256;       // test rows per similarity GEMM: the chunk × N_train block is
                             // the only similarity matrix ever held
};

struct KnnResult {
  double top1 = 0;   // fraction in [0, 1]
  double top5 = -1;  // fraction in [0, 1]; −1 when there are fewer than 5 classes
  int64_t k = 0;     // the k actually used (after the cap)
  std::vector<int64_t> predictions;  // (N_test) argmax class of each test sample
};

// train_feats (N_train, F) and test_feats (N_test, F) float32 CPU tensors, labels in
// [0, num_classes). Ties in a class score go to the lower class index; ties in similarity at
// the k-th place are broken arbitrarily. Throws bt::Error on inconsistent shapes or labels.
KnnResult knn_classify(const Tensor& train_feats, const std::vector<int64_t>& train_labels,
                       const Tensor& test_feats, const std::vector<int64_t>& test_labels,
                       int64_t num_classes, const KnnOptions& options = {});

}  // namespace bt::tools
