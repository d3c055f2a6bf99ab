#include "data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "data/parallel.h"

namespace bt::data {

namespace fs = std::filesystem;

namespace {

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

// Every image file under dir, at any depth, sorted by path.
std::vector<std::string> list_images(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec);
  BT_CHECK(!ec, "cannot list ", dir.string(), ": ", ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    BT_CHECK(!ec, "cannot list ", dir.string(), ": ", ec.message());
    if (it->is_regular_file(ec) && is_image_file(it->path())) out.push_back(it->path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Reserves `need` bytes of the cache budget if they fit.
bool reserve(std::atomic<size_t>& used, size_t need, size_t budget) {
  size_t cur = used.load();
  while (cur + need <= budget)
    if (used.compare_exchange_weak(cur, cur + need)) return true;
  return false;
}

}  // namespace

ImageFolder::ImageFolder(const std::string& root, ImageFolderOptions options) : root_(root) {
  std::error_code ec;
  BT_CHECK(fs::exists(root, ec), "image folder not found: ", root);
  BT_CHECK(fs::is_directory(root, ec), "image folder root is not a directory: ", root);
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory(ec) && name[0] != '.') classes_.push_back(name);
  }
  BT_CHECK(!ec, "cannot list ", root, ": ", ec.message());
  BT_CHECK(!classes_.empty(), "image folder has no class folders: ", root);
  std::sort(classes_.begin(), classes_.end());
  for (size_t c = 0; c < classes_.size(); ++c) {
    const fs::path dir = fs::path(root) / classes_[c];
    std::vector<std::string> files = list_images(dir);
    BT_CHECK(!files.empty(), "class folder has no images (.jpg/.jpeg/.png/.bmp): ", dir.string());
    for (auto& f : files) {
      paths_.push_back(std::move(f));
      labels_.push_back(int(c));
    }
  }
  cache_.resize(paths_.size());
  if (options.skip_bad || options.cache_bytes > 0) decode_at_scan(options);
}

// Decodes files in parallel: every file when verifying (skip_bad), else only those whose
// decoded size (from the header, stbi_info) still fits the cache budget. Errors are recorded
// per file so the reported one (the first by index) does not depend on thread timing.
void ImageFolder::decode_at_scan(const ImageFolderOptions& options) {
  const int64_t n = size();
  std::vector<std::string> errors(n);
  std::atomic<size_t> used{0};
  parallel_for(n, options.threads, [&](int64_t i) {
    try {
      const std::vector<uint8_t> bytes = read_file(paths_[i]);
      int w = 0, h = 0;
      const bool known = read_image_size(bytes, w, h);
      const bool fits = known && options.cache_bytes > 0 &&
                        reserve(used, size_t(w) * h * 3, options.cache_bytes);
      if (known && !fits && !options.skip_bad) return;  // unreadable headers still get decoded
      try {
        Image img = decode_image(bytes, paths_[i]);
        if (fits) cache_[i] = std::move(img);
      } catch (const Error&) {
        if (fits) used -= size_t(w) * h * 3;
        throw;
      }
    } catch (const Error& e) {
      errors[i] = e.what();
    }
  });
  const auto bad = [&](int64_t i) { return !errors[i].empty(); };
  if (!options.skip_bad) {
    for (int64_t i = 0; i < n; ++i) BT_CHECK(!bad(i), errors[i]);
  } else {
    // Kept files go to fresh vectors: compacting in place would self-move-assign the entries
    // before the first bad file, which empties a cached Image's pixels but keeps its w and h.
    std::vector<std::string> paths;
    std::vector<int> labels;
    std::vector<Image> cache;
    for (int64_t i = 0; i < n; ++i) {
      if (bad(i)) continue;
      paths.push_back(std::move(paths_[i]));
      labels.push_back(labels_[i]);
      cache.push_back(std::move(cache_[i]));
    }
    skipped_ = n - int64_t(paths.size());
    paths_ = std::move(paths);
    labels_ = std::move(labels);
    cache_ = std::move(cache);
    std::vector<bool> has(classes_.size(), false);
    for (int l : labels_) has[l] = true;
    for (size_t c = 0; c < classes_.size(); ++c)
      BT_CHECK(has[c], "class folder has no decodable images: ",
               (fs::path(root_) / classes_[c]).string());
  }
  for (const Image& img : cache_) {
    if (img.w == 0) continue;
    ++cached_count_;
    cached_bytes_ += img.bytes();
  }
}

int ImageFolder::label(int64_t i) const {
  check_index(i);
  return labels_[i];
}

const std::string& ImageFolder::path(int64_t i) const {
  check_index(i);
  return paths_[i];
}

Image ImageFolder::image(int64_t i) const {
  check_index(i);
  if (cache_[i].w > 0) return cache_[i];
  return load_image(paths_[i]);
}

}  // namespace bt::data
