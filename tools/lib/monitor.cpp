#include "tools/lib/monitor.h"

#include <cmath>
#include <cstdio>

#include "data/split.h"
#include "tools/lib/collapse.h"
#include "tools/lib/features.h"
#include "tools/lib/knn.h"

namespace bt::tools {

namespace {

// Every (size / n)-th sample: a deterministic bank that keeps the class balance of the set.
std::shared_ptr<const data::Dataset> evenly_spaced(std::shared_ptr<const data::Dataset> ds, int64_t n) {
  if (n <= 0 || n >= ds->size()) return ds;
  std::vector<int64_t> idx(n);
  for (int64_t i = 0; i < n; ++i) idx[i] = i * ds->size() / n;
  return std::make_shared<data::Subset>(std::move(ds), std::move(idx));
}

}  // namespace

Monitor::Monitor(std::shared_ptr<const data::Dataset> train, std::shared_ptr<const data::Dataset> val,
                 data::EvalTransform transform, MonitorOptions options)
    : bank_(evenly_spaced(std::move(train), options.bank_size)), val_(std::move(val)),
      transform_(transform), options_(options) {}

EpochRecord Monitor::evaluate(methods::Method& method) const {
  EpochRecord r;
  if (val_) {
    const Features bank = extract_features(method.backbone(), *bank_, transform_, options_.batch, options_.threads);
    const Features val = extract_features(method.backbone(), *val_, transform_, options_.batch, options_.threads);
    r.knn_top1 = knn_classify(bank.feats, bank.labels, val.feats, val.labels, val_->num_classes(),
                              {.k = options_.k, .temperature = options_.temperature})
                     .top1;
  }
  if (method.last_z1().defined()) {
    const CollapseMetrics m = collapse_metrics(method.last_z1());
    r.embedding_std = m.normalized_std;
    r.effective_rank = m.effective_rank;
  }
  return r;
}

std::string Monitor::summary(const EpochRecord& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "loss %.4f  kNN top-1 %s  emb std %.4f  eff. rank %.1f  %.0f img/s", r.loss,
                knn_text(r.knn_top1).c_str(), r.embedding_std, r.effective_rank, r.images_per_s);
  return buf;
}

std::string knn_text(double top1) {
  if (std::isnan(top1)) return "off (no validation images)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * top1);
  return buf;
}

}  // namespace bt::tools
