#include "tools/lib/linear_probe.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>

#include "engine/autograd.h"
#include "engine/nn/linear.h"
#include "engine/ops.h"
#include "engine/optim/adamw.h"
#include "engine/optim/param_groups.h"
#include "engine/optim/schedule.h"
#include "engine/optim/sgd.h"
#include "engine/rng.h"

namespace bt::tools {

namespace {

constexpr int64_t kEvalChunk = 4096;  // rows per logits block when measuring accuracy

void check_features(const Features& s, int64_t num_classes, const char* which) {
  BT_CHECK(s.feats.defined() && s.feats.dim() == 2 && s.feats.dtype() == DType::f32,
           "linear_probe: ", which, " features must be a float32 (N, F) tensor");
  BT_CHECK(int64_t(s.labels.size()) == s.feats.size(0), "linear_probe: ", which, " has ",
           s.feats.size(0), " rows but ", s.labels.size(), " labels");
  for (int64_t y : s.labels)
    BT_CHECK(y >= 0 && y < num_classes, "linear_probe: ", which, " label ", y, " outside [0, ",
             num_classes, ")");
}

// Per-feature mean and standard deviation (biased) of x (N ≥ 1, F); σ = 0 becomes 1.
void feature_stats(const Tensor& x, std::vector<float>& mean, std::vector<float>& stddev) {
  const int64_t n = x.size(0), f = x.size(1);
  const float* p = x.data<float>();
  std::vector<double> m(size_t(f), 0.0), ss(size_t(f), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j) m[size_t(j)] += p[i * f + j];
  for (int64_t j = 0; j < f; ++j) m[size_t(j)] /= double(n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j) ss[size_t(j)] += (p[i * f + j] - m[size_t(j)]) * (p[i * f + j] - m[size_t(j)]);
  mean.assign(m.begin(), m.end());
  stddev.resize(size_t(f));
  for (int64_t j = 0; j < f; ++j) {
    const double s = std::sqrt(ss[size_t(j)] / double(n));
    stddev[size_t(j)] = s > 0 ? float(s) : 1.0f;
  }
}

// (x − μ) / σ as a new contiguous (N, F) tensor.
Tensor standardize(const Tensor& x, const std::vector<float>& mean, const std::vector<float>& stddev) {
  const Tensor c = x.contiguous();
  const int64_t n = c.size(0), f = c.size(1);
  Tensor out = Tensor::empty({n, f});
  const float* src = c.data<float>();
  float* dst = out.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < f; ++j) dst[i * f + j] = (src[i * f + j] - mean[size_t(j)]) / stddev[size_t(j)];
  return out;
}

// Rows `idx` of x (N, F) → (idx.size(), F).
Tensor gather_rows(const Tensor& x, const int64_t* idx, int64_t count) {
  const int64_t f = x.size(1);
  Tensor out = Tensor::empty({count, f});
  for (int64_t r = 0; r < count; ++r)
    std::memcpy(out.data<float>() + r * f, x.data<float>() + idx[r] * f, size_t(f) * sizeof(float));
  return out;
}

double accuracy(nn::Linear& layer, const Tensor& x, const std::vector<int64_t>& labels) {
  const int64_t n = x.size(0);
  if (n == 0) return 0.0;
  NoGradGuard no_grad;
  int64_t correct = 0;
  for (int64_t r0 = 0; r0 < n; r0 += kEvalChunk) {
    const int64_t rows = std::min(kEvalChunk, n - r0);
    const Tensor logits = layer.forward(x.slice(0, r0, r0 + rows)).contiguous();  // (rows, C)
    const int64_t c = logits.size(1);
    const float* l = logits.data<float>();
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t pred = std::max_element(l + r * c, l + (r + 1) * c) - (l + r * c);
      correct += pred == labels[size_t(r0 + r)];
    }
  }
  return double(correct) / double(n);
}

std::unique_ptr<optim::Optimizer> make_optimizer(nn::Linear& layer, const ProbeOptions& o) {
  auto groups = optim::decay_groups(layer.named_parameters(), o.weight_decay);
  if (o.optimizer == "sgd") return std::make_unique<optim::SGD>(std::move(groups));
  if (o.optimizer == "adamw") return std::make_unique<optim::AdamW>(std::move(groups));
  detail::fail("linear_probe: unknown optimizer '", o.optimizer, "' (expected sgd or adamw)");
}

}  // namespace

ProbeResult linear_probe(const Features& train, const Features& test, int64_t num_classes,
                         const ProbeOptions& options) {
  BT_CHECK(num_classes >= 2, "linear_probe: needs at least 2 classes, got ", num_classes);
  BT_CHECK(options.epochs >= 1, "linear_probe: epochs must be at least 1");
  BT_CHECK(options.batch >= 1, "linear_probe: batch must be at least 1");
  BT_CHECK(options.lr > 0 && options.weight_decay >= 0, "linear_probe: lr must be positive and "
           "weight decay non-negative");
  check_features(train, num_classes, "train");
  check_features(test, num_classes, "test");
  const int64_t n = train.feats.size(0), f = train.feats.size(1);
  BT_CHECK(n >= 1, "linear_probe: no training samples");
  BT_CHECK(test.feats.size(1) == f, "linear_probe: train features have ", f, " columns, test ",
           test.feats.size(1));

  const Tensor train_c = train.feats.to(Device::cpu).contiguous();
  std::vector<float> mean, stddev;
  feature_stats(train_c, mean, stddev);
  const Tensor x_train = standardize(train_c, mean, stddev);             // (N, F)
  const Tensor x_test = standardize(test.feats.to(Device::cpu), mean, stddev);  // (N_test, F)

  Rng rng(options.seed);
  nn::Linear layer(f, num_classes, rng);
  auto opt = make_optimizer(layer, options);
  const int64_t steps_per_epoch = (n + options.batch - 1) / options.batch;
  const optim::WarmupCosine schedule{0, options.epochs * steps_per_epoch, options.lr, 0.0};

  ProbeResult result;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::vector<int64_t> batch_labels;
  int64_t step = 0;
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    Rng shuffle = rng.fork(uint64_t(epoch));
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[size_t(i)], order[size_t(shuffle.randint(0, i + 1))]);
    double loss_sum = 0;
    for (int64_t b0 = 0; b0 < n; b0 += options.batch, ++step) {
      const int64_t rows = std::min(options.batch, n - b0);
      batch_labels.clear();
      for (int64_t r = 0; r < rows; ++r) batch_labels.push_back(train.labels[size_t(order[size_t(b0 + r)])]);
      opt->set_lr(schedule(step));
      opt->zero_grad();
      Tensor loss = cross_entropy(layer.forward(gather_rows(x_train, order.data() + b0, rows)), batch_labels);
      loss.backward();
      opt->step();
      loss_sum += loss.item() * double(rows);
    }
    result.final_loss = loss_sum / double(n);
  }
  result.train_top1 = accuracy(layer, x_train, train.labels);
  result.test_top1 = accuracy(layer, x_test, test.labels);
  return result;
}

}  // namespace bt::tools
