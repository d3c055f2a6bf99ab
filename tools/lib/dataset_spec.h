#pragma once
// Opens the dataset a --data flag names, and its labelled train/val split.
//   "synthetic"        the built-in procedural set (data/synthetic.h)
//   "cifar10-bin:DIR"  the CIFAR-10 binary batches in DIR
//   any other string   an image folder root/<class>/<image>
#include <memory>
#include <string>

#include "data/dataset.h"

namespace bt::tools {

struct DatasetSpec {
  std::string data = "synthetic";
  std::string val_data;     // a separate labelled folder; else val_split of data
  double val_split = 0.1;
  int64_t synthetic_size = 6000;
  int image_size = 32;      // of the synthetic images
  bool skip_bad = false;
  uint64_t seed = 0;
};

struct OpenedData {
  std::shared_ptr<const data::Dataset> train;
  std::shared_ptr<const data::Dataset> val;  // null when there is no labelled split
  int64_t skipped = 0;                       // undecodable files skipped (skip_bad)
  bool cifar_like = true;                    // small images: CIFAR recipe (no blur, CIFAR stats)
};

OpenedData open_data(const DatasetSpec& spec);

}  // namespace bt::tools
