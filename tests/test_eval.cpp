// Evaluation tools (tools/lib): feature extraction, the weighted kNN monitor, collapse metrics,
// the linear probe and the .npy writer, on hand-built inputs with hand-derived answers.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "support/temp_dir.h"
#include "data/split.h"
#include "data/synthetic.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "tools/lib/collapse.h"
#include "tools/lib/features.h"
#include "tools/lib/knn.h"
#include "tools/lib/linear_probe.h"
#include "tools/lib/npy.h"

using namespace bt;
using namespace bt::tools;
namespace fs = std::filesystem;

using bt::testing::TempDir;

namespace {


std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

Tensor matrix(const std::vector<std::vector<double>>& rows) {
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return Tensor::from_vector(flat, {int64_t(rows.size()), int64_t(rows[0].size())});
}

// Unit vector at angle θ in the plane.
std::vector<double> at_angle(double theta) { return {std::cos(theta), std::sin(theta)}; }

// n samples per class around `classes` well-separated random centres in `dim` dimensions.
Features clusters(int64_t classes, int64_t per_class, int64_t dim, double noise, Rng& rng,
                  const std::vector<std::vector<double>>& centres) {
  Features out;
  std::vector<double> flat;
  for (int64_t i = 0; i < classes * per_class; ++i) {
    const int64_t c = i % classes;
    for (int64_t j = 0; j < dim; ++j) flat.push_back(centres[size_t(c)][size_t(j)] + rng.normal(0, noise));
    out.labels.push_back(c);
  }
  out.feats = Tensor::from_vector(flat, {classes * per_class, dim});
  return out;
}

std::vector<std::vector<double>> random_centres(int64_t classes, int64_t dim, double scale, Rng& rng) {
  std::vector<std::vector<double>> c(static_cast<size_t>(classes), std::vector<double>(static_cast<size_t>(dim)));
  for (auto& row : c)
    for (auto& v : row) v = rng.normal(0, scale);
  return c;
}

}  // namespace

// ---- features ----------------------------------------------------------------------------

TEST_CASE("extract_features: eval-mode forward of every sample in order, mode restored") {
  Rng rng(3);
  models::ResNet net({.arch = "resnet18", .stem = models::Stem::cifar, .width = 4}, rng);
  data::SyntheticDataset ds({.size = 10, .image_size = 16, .seed = 5});
  const data::EvalTransform transform{.size = 16};
  net.train();
  const std::vector<double> running_before = net.state_dict().at("bn1.running_mean").to_vector();

  const Features f = extract_features(net, ds, transform, /*batch=*/4, /*threads=*/2);

  REQUIRE(net.is_training());  // restored
  REQUIRE(net.state_dict().at("bn1.running_mean").to_vector() == running_before);  // BN in eval
  REQUIRE(f.feats.shape() == Shape{10, net.feature_dim()});
  REQUIRE(f.feats.dtype() == DType::f32);
  for (int64_t i = 0; i < 10; ++i) REQUIRE(f.labels[size_t(i)] == ds.label(i));

  // The same images, built here, through the eval-mode network in one batch.
  std::vector<float> pixels;
  for (int64_t i = 0; i < 10; ++i) {
    const data::FloatImage v = data::eval_view(transform, data::to_float(ds.image(i)));
    pixels.insert(pixels.end(), v.data.begin(), v.data.end());
  }
  net.eval();
  NoGradGuard no_grad;
  const std::vector<double> want = net.forward(Tensor::from_vector(pixels, {10, 3, 16, 16})).to_vector();
  const std::vector<double> got = f.feats.to_vector();
  for (size_t k = 0; k < want.size(); ++k) REQUIRE(got[k] == Approx(want[k]).margin(1e-5).epsilon(1e-4));
}

TEST_CASE("extract_features restores eval mode too, and handles an empty dataset") {
  Rng rng(4);
  models::ResNet net({.arch = "resnet18", .stem = models::Stem::cifar, .width = 4}, rng);
  const data::Subset ds(std::make_shared<data::SyntheticDataset>(data::SyntheticOptions{.size = 4}), {});
  net.eval();
  const Features f = extract_features(net, ds, {.size = 16}, 8, 1);
  REQUIRE_FALSE(net.is_training());
  REQUIRE(f.feats.shape() == Shape{0, net.feature_dim()});
  REQUIRE(f.labels.empty());
}

// ---- kNN ---------------------------------------------------------------------------------

TEST_CASE("knn: separated clusters are classified perfectly; top-5 with ≥ 5 classes") {
  Rng rng(1);
  const auto centres = random_centres(6, 32, 1.0, rng);
  const Features train = clusters(6, 30, 32, 0.05, rng, centres);
  const Features test = clusters(6, 10, 32, 0.05, rng, centres);
  const KnnResult r = knn_classify(train.feats, train.labels, test.feats, test.labels, 6);
  REQUIRE(r.k == 180);  // k = 200 capped at N_train
  REQUIRE(r.top1 == 1.0);
  REQUIRE(r.top5 == 1.0);
  REQUIRE(r.predictions == test.labels);

  const KnnResult small_k = knn_classify(train.feats, train.labels, test.feats, test.labels, 6, {.k = 5});
  REQUIRE(small_k.k == 5);
  REQUIRE(small_k.top1 == 1.0);
}

TEST_CASE("knn: fewer than 5 classes reports no top-5") {
  const Tensor train = matrix({{1, 0}, {0, 1}});
  const KnnResult r = knn_classify(train, {0, 1}, matrix({{1, 0.1}}), {0}, 2);
  REQUIRE(r.top1 == 1.0);
  REQUIRE(r.top5 == -1);
}

TEST_CASE("knn: k = 1 takes the label of the most cosine-similar training sample") {
  // Cosine, not Euclidean: (10, 0) is far from (0.9, 0.5) in distance but at angle 29°,
  // while (0, 1) is close in distance but at angle 61°.
  const Tensor train = matrix({{10, 0}, {0, 1}, {-1, 0}});
  const std::vector<int64_t> train_labels = {0, 1, 2};
  const Tensor test = matrix({{0.9, 0.5}, {0.2, 1}, {-1, -0.1}, {-0.2, 0.9}});
  const KnnResult r = knn_classify(train, train_labels, test, {0, 1, 2, 2}, 3, {.k = 1});
  REQUIRE(r.predictions == std::vector<int64_t>{0, 1, 2, 1});
  REQUIRE(r.top1 == Approx(0.75));
}

TEST_CASE("knn: exp(s/T) lets one close neighbour outvote two far ones") {
  // Query (1, 0). Class 0: one sample at cos = 0.99; class 1: two at cos = 0.90 (±θ).
  // T = 0.1: e^{9.9} = 19930 > 2·e^{9.0} = 16206, so class 0 wins.
  // T = 1:   e^{0.99} = 2.69 < 2·e^{0.90} = 4.92: the majority, class 1, wins.
  const double a = std::acos(0.99), b = std::acos(0.90);
  const Tensor train = matrix({at_angle(a), at_angle(b), at_angle(-b)});
  const std::vector<int64_t> labels = {0, 1, 1};
  const Tensor query = matrix({{1, 0}});
  REQUIRE(knn_classify(train, labels, query, {0}, 2, {.k = 3, .temperature = 0.1}).predictions[0] == 0);
  REQUIRE(knn_classify(train, labels, query, {0}, 2, {.k = 3, .temperature = 1.0}).predictions[0] == 1);
  // A tiny temperature does not overflow: the closest neighbour decides.
  REQUIRE(knn_classify(train, labels, query, {0}, 2, {.k = 3, .temperature = 1e-4}).predictions[0] == 0);
}

TEST_CASE("knn: top-5 counts a true class ranked second") {
  // Query (1, 0), true class 0 at cos 0.9, class 1 at cos 0.99, classes 2..5 at cos ≤ 0.
  const Tensor train = matrix({at_angle(std::acos(0.9)), at_angle(std::acos(0.99)), {0, 1},
                               {-1, 0}, {0, -1}, {-1, 1}});
  const KnnResult r = knn_classify(train, {0, 1, 2, 3, 4, 5}, matrix({{1, 0}}), {0}, 6);
  REQUIRE(r.predictions[0] == 1);
  REQUIRE(r.top1 == 0.0);
  REQUIRE(r.top5 == 1.0);
}

TEST_CASE("knn: chunking the test rows does not change the answer") {
  Rng rng(2);
  const Tensor train = randn({300, 16}, rng), test = randn({77, 16}, rng);
  std::vector<int64_t> train_labels, test_labels;
  for (int i = 0; i < 300; ++i) train_labels.push_back(rng.randint(0, 7));
  for (int i = 0; i < 77; ++i) test_labels.push_back(rng.randint(0, 7));
  const KnnResult whole = knn_classify(train, train_labels, test, test_labels, 7, {.k = 20});
  const KnnResult chunked = knn_classify(train, train_labels, test, test_labels, 7, {.k = 20, .chunk = 10});
  REQUIRE(whole.predictions == chunked.predictions);
  REQUIRE(whole.top1 == chunked.top1);
  REQUIRE(whole.top5 == chunked.top5);
}

TEST_CASE("knn: inconsistent inputs are errors") {
  const Tensor train = matrix({{1, 0}, {0, 1}});
  REQUIRE_THROWS_WITH(knn_classify(train, {0, 2}, train, {0, 1}, 2), Catch::Contains("label 2"));
  REQUIRE_THROWS_WITH(knn_classify(train, {0}, train, {0, 1}, 2), Catch::Contains("1 labels"));
  REQUIRE_THROWS_WITH(knn_classify(train, {0, 1}, matrix({{1, 0, 0}}), {0}, 2), Catch::Contains("columns"));
  REQUIRE_THROWS_WITH(knn_classify(train, {0, 1}, train, {0, 1}, 2, {.k = 0}), Catch::Contains("k must"));
  REQUIRE_THROWS_WITH(knn_classify(train, {0, 1}, train, {0, 1}, 2, {.temperature = 0}),
                      Catch::Contains("temperature"));
}

// ---- collapse metrics ----------------------------------------------------------------------

TEST_CASE("collapse: identical rows give std 0 and effective rank 0") {
  std::vector<std::vector<double>> rows(8, {0.1, -2.5, 3.7, 0.3});
  const CollapseMetrics m = collapse_metrics(matrix(rows));
  REQUIRE(m.normalized_std == 0.0);
  REQUIRE(m.effective_rank == 0.0);
  REQUIRE(m.healthy_std == Approx(0.5));
}

TEST_CASE("collapse: normalized_std by hand") {
  // Rows (3, 4) → (0.6, 0.8) and (1, 0). Unbiased std per dim: |0.6 − 1|/√2 = 0.2√2 and
  // |0.8 − 0|/√2 = 0.4√2; mean 0.3√2.
  REQUIRE(normalized_std(matrix({{3, 4}, {1, 0}})) == Approx(0.3 * std::sqrt(2.0)).epsilon(1e-6));
}

TEST_CASE("collapse: healthy Gaussian embeddings have std ≈ 1/√D and nearly full rank") {
  Rng rng(7);
  const Tensor z = randn({4096, 64}, rng);
  const CollapseMetrics m = collapse_metrics(z);
  REQUIRE(m.normalized_std == Approx(1.0 / 8.0).epsilon(0.03));
  REQUIRE(m.effective_rank > 0.95 * 64);
  REQUIRE(m.effective_rank <= 64 + 1e-9);
}

TEST_CASE("collapse: D orthogonal equal-variance directions give effective rank D") {
  // Rows ±e_d, d = 0..D−1: centred already, Z_cᵀZ_c = 2I, all σ equal.
  const int64_t d = 8;
  std::vector<std::vector<double>> rows;
  for (int64_t k = 0; k < d; ++k)
    for (double sign : {1.0, -1.0}) {
      std::vector<double> r(size_t(d), 0.0);
      r[size_t(k)] = sign;
      rows.push_back(r);
    }
  REQUIRE(effective_rank(matrix(rows)) == Approx(double(d)).epsilon(1e-9));

  // N < D: the same 3 directions in D = 20 (the N × N Gram path): rank 3.
  std::vector<std::vector<double>> wide;
  for (int64_t k = 0; k < 3; ++k)
    for (double sign : {1.0, -1.0}) {
      std::vector<double> r(20, 0.0);
      r[size_t(k)] = sign;
      wide.push_back(r);
    }
  REQUIRE(effective_rank(matrix(wide)) == Approx(3.0).epsilon(1e-9));
}

TEST_CASE("collapse: a rank-2 Z in D = 10 has effective rank at most 2, rank-1 exactly 1") {
  Rng rng(9);
  const Tensor a = randn({200, 2}, rng), b = randn({2, 10}, rng);
  const double e2 = effective_rank(matmul(a, b));
  REQUIRE(e2 > 1.0);
  REQUIRE(e2 <= 2.0 + 1e-6);
  const double e1 = effective_rank(matmul(randn({50, 1}, rng), randn({1, 10}, rng)));
  REQUIRE(e1 == Approx(1.0).margin(1e-6));
}

TEST_CASE("collapse: non-finite embeddings give NaN; bad shapes are errors") {
  const Tensor z = matrix({{1, std::nan("")}, {0, 1}});
  REQUIRE(std::isnan(normalized_std(z)));
  REQUIRE(std::isnan(effective_rank(z)));
  REQUIRE_THROWS_WITH(normalized_std(matrix({{1, 2}})), Catch::Contains("at least 2 rows"));
  REQUIRE_THROWS_WITH(effective_rank(Tensor::zeros({4})), Catch::Contains("(N, D)"));
}

// ---- linear probe --------------------------------------------------------------------------

TEST_CASE("linear probe: linearly separable features reach ≥ 95 % with SGD and AdamW") {
  Rng rng(11);
  const auto centres = random_centres(4, 16, 3.0, rng);
  const Features train = clusters(4, 100, 16, 1.0, rng, centres);
  const Features test = clusters(4, 50, 16, 1.0, rng, centres);
  const ProbeResult sgd = linear_probe(train, test, 4, {.epochs = 20, .batch = 32});
  CHECK(sgd.train_top1 >= 0.95);
  CHECK(sgd.test_top1 >= 0.95);
  CHECK(sgd.final_loss < 0.3);
  const ProbeResult adamw = linear_probe(train, test, 4, {.epochs = 20, .batch = 32, .optimizer = "adamw",
                                                          .lr = 1e-2, .weight_decay = 1e-4});
  CHECK(adamw.train_top1 >= 0.95);
  CHECK(adamw.test_top1 >= 0.95);
}

TEST_CASE("linear probe: constant features and bad options") {
  // A constant feature (σ = 0) is left unscaled instead of dividing by zero.
  Features train{matrix({{1, 5}, {-1, 5}, {2, 5}, {-2, 5}}), {1, 0, 1, 0}};
  const ProbeResult r = linear_probe(train, train, 2, {.epochs = 50, .batch = 2});
  REQUIRE(r.train_top1 == 1.0);
  REQUIRE(std::isfinite(r.final_loss));
  REQUIRE_THROWS_WITH(linear_probe(train, train, 2, {.optimizer = "lbfgs"}), Catch::Contains("lbfgs"));
  REQUIRE_THROWS_WITH(linear_probe(train, train, 2, {.epochs = 0}), Catch::Contains("epochs"));
  Features bad{train.feats, {1, 0, 1, 3}};
  REQUIRE_THROWS_WITH(linear_probe(bad, train, 2), Catch::Contains("label 3"));
}

// ---- .npy --------------------------------------------------------------------------------

TEST_CASE("npy: exact v1.0 header bytes, 64-byte aligned, then the raw data") {
  TempDir dir;
  const std::string path = dir / "x.npy";
  save_npy(path, Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3}));
  const std::string bytes = read_bytes(path);
  // 10-byte preamble + 59-byte dict + 58 spaces + '\n' = 128.
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  REQUIRE(bytes.size() == 128 + 6 * 4);
  REQUIRE(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  REQUIRE(uint8_t(bytes[8]) == 118);
  REQUIRE(uint8_t(bytes[9]) == 0);
  REQUIRE(bytes.substr(10, dict.size()) == dict);
  REQUIRE(bytes.substr(10 + dict.size(), 58) == std::string(58, ' '));
  REQUIRE(bytes[127] == '\n');
  float data[6];
  std::memcpy(data, bytes.data() + 128, sizeof(data));
  for (int i = 0; i < 6; ++i) REQUIRE(data[i] == float(i + 1));
  // Nothing but the file itself is left in the directory (the temporary was renamed).
  REQUIRE(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("npy: int64 labels, float64, 1-D and 0-D shapes") {
  TempDir dir;
  save_npy(dir / "y.npy", std::vector<int64_t>{7, -1, 3});
  const std::string y = read_bytes(dir / "y.npy");
  REQUIRE(y.size() == 128 + 3 * 8);
  REQUIRE(y.substr(10, 57) == "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }");
  int64_t v[3];
  std::memcpy(v, y.data() + 128, sizeof(v));
  REQUIRE((v[0] == 7 && v[1] == -1 && v[2] == 3));

  REQUIRE(npy_header("<f8", {}).find("'shape': (), }") != std::string::npos);
  // A strided (transposed) f64 tensor is written in row-major order of its logical shape.
  save_npy(dir / "t.npy", Tensor::from_vector({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, {2, 3}, DType::f64).t());
  const std::string t = read_bytes(dir / "t.npy");
  REQUIRE(t.find("'descr': '<f8'") != std::string::npos);
  REQUIRE(t.find("'shape': (3, 2), }") != std::string::npos);
  double w[6];
  std::memcpy(w, t.data() + 128, sizeof(w));
  REQUIRE((w[0] == 1 && w[1] == 4 && w[2] == 2 && w[3] == 5 && w[4] == 3 && w[5] == 6));
  for (const Shape& s : {Shape{}, Shape{5}, Shape{123456, 2048}, Shape{1, 2, 3, 4}})
    REQUIRE((npy_header("<f4", s).size()) % 64 == 0);
}

TEST_CASE("npy: an unwritable path is an error naming it") {
  REQUIRE_THROWS_WITH(save_npy("/nonexistent_dir_bt/x.npy", std::vector<int64_t>{1}),
                      Catch::Contains("/nonexistent_dir_bt/x.npy"));
}
