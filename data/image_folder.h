#pragma once
// ImageFolder: root/<class>/<image> (torchvision's layout). Classes are the sub-folders of root
// sorted by name (label = rank); each class's JPEG/PNG/BMP files (any depth, extension
// case-insensitive, other files ignored) sorted by path. Hidden folders (".name") are ignored.
#include <atomic>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace bt::data {

struct ImageFolderOptions {
  // Decode every file while scanning and drop those that fail (counted in skipped_count());
  // when false an undecodable file throws bt::Error naming it (at scan if it is decoded then,
  // else from image()).
  bool skip_bad = false;
  // Decoded images are kept in memory while their total size stays under this budget
  // (decoded at scan time, in parallel); 0 disables the cache.
  size_t cache_bytes = size_t(2) << 30;
  int threads = 0;  // scan/decode threads; 0: all cores
};

class ImageFolder : public Dataset {
 public:
  explicit ImageFolder(const std::string& root, ImageFolderOptions options = {});

  int64_t size() const override { return int64_t(paths_.size()); }
  int num_classes() const override { return int(classes_.size()); }
  int label(int64_t i) const override;
  Image image(int64_t i) const override;

  const std::vector<std::string>& classes() const { return classes_; }
  const std::string& path(int64_t i) const;
  int64_t skipped_count() const { return skipped_; }
  int64_t cached_count() const { return cached_count_; }
  size_t cached_bytes() const { return cached_bytes_; }

 private:
  void decode_at_scan(const ImageFolderOptions& options);

  std::string root_;
  std::vector<std::string> classes_;
  std::vector<std::string> paths_;
  std::vector<int> labels_;
  std::vector<Image> cache_;  // cache_[i].w == 0: not cached
  int64_t skipped_ = 0;
  int64_t cached_count_ = 0;
  size_t cached_bytes_ = 0;
};

}  // namespace bt::data
