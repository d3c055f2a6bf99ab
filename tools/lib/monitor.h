#pragma once
// The per-epoch health check of a training run: kNN accuracy of the backbone's features on
// the labelled split (a memory bank of training images, docs/design.md §5: cosine, k = 200, T = 0.1)
// and the collapse metrics of the last batch's embeddings.
#include <memory>
#include <string>

#include "data/augment.h"
#include "data/dataset.h"
#include "methods/method.h"
#include "tools/lib/trainer.h"

namespace bt::tools {

struct MonitorOptions {
  int64_t k = 200;
  double temperature = 0.1;
  int64_t bank_size = 10000;  // training images in the kNN memory bank (evenly spaced; 0: all)
  int64_t batch = 256;
  int threads = 2;
};

class Monitor {
 public:
  // val may be null: then only the collapse metrics are measured.
  Monitor(std::shared_ptr<const data::Dataset> train, std::shared_ptr<const data::Dataset> val,
          data::EvalTransform transform, MonitorOptions options);
  // Fills knn_top1 (when there is a val split) and the collapse metrics (when the method has
  // seen a batch); the other fields are the caller's.
  EpochRecord evaluate(methods::Method& method) const;
  static std::string summary(const EpochRecord& r);

 private:
  std::shared_ptr<const data::Dataset> bank_, val_;
  data::EvalTransform transform_;
  MonitorOptions options_;
};

// "12.34%", or "off (no validation images)" for the NaN of a run without a val split.
std::string knn_text(double top1);

}  // namespace bt::tools
