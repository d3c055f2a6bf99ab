#include "data/loader.h"

#include <algorithm>
#include <cstring>

namespace bt::data {

namespace {

void copy_into(const FloatImage& img, const Tensor& batch, int64_t k) {
  std::memcpy(batch.data<float>() + k * int64_t(img.data.size()), img.data.data(),
              img.data.size() * sizeof(float));
}

}  // namespace

Rng sample_rng(uint64_t seed, int64_t epoch, int64_t index) {
  return Rng(seed).fork(1).fork(uint64_t(epoch) << 40 | uint64_t(index));
}

std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(size);
  for (int64_t i = 0; i < size; ++i) order[i] = i;
  if (!shuffle) return order;
  Rng rng = Rng(seed).fork(0).fork(uint64_t(epoch));
  for (int64_t i = size - 1; i > 0; --i) std::swap(order[i], order[rng.randint(0, i + 1)]);
  return order;
}

TwoViewLoader::TwoViewLoader(std::shared_ptr<const Dataset> dataset, ViewPair views,
                             LoaderOptions options)
    : dataset_(std::move(dataset)), views_(views), options_(options) {
  BT_CHECK(dataset_ != nullptr, "loader: null dataset");
  BT_CHECK(options_.batch_size > 0, "loader: batch size must be positive");
  BT_CHECK(options_.world >= 1 && options_.rank >= 0 && options_.rank < options_.world, "loader: rank ",
           options_.rank, " outside a world of ", options_.world);
  BT_CHECK(options_.world == 1 || (options_.drop_last && options_.batch_size % options_.world == 0),
           "--batch ", options_.batch_size, " (the global batch) must be a multiple of the ", options_.world,
           " ranks");
  BT_CHECK(batches_per_epoch() > 0, "loader: ", dataset_->size(),
           " samples make no full batch of ", options_.batch_size);
}

int64_t TwoViewLoader::batches_per_epoch() const {
  const int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void TwoViewLoader::start_epoch(int64_t epoch) {
  prefetcher_.stop();  // workers read order_: stop them before replacing it
  order_ = epoch_order(dataset_->size(), options_.seed, epoch, options_.shuffle);
  prefetcher_.start(batches_per_epoch(), options_.threads, options_.prefetch,
                    [this, epoch](int64_t b) { return make_batch(epoch, order_, b); });
}

bool TwoViewLoader::next(TwoViewBatch& batch) { return prefetcher_.next(batch); }

TwoViewBatch TwoViewLoader::make_batch(int64_t epoch, const std::vector<int64_t>& order,
                                       int64_t b) const {
  const int64_t local = local_batch_size();
  const int64_t begin = b * options_.batch_size + options_.rank * local;
  const int64_t n = std::min<int64_t>(local, int64_t(order.size()) - begin);
  const int s1 = views_.first.size, s2 = views_.second.size;
  TwoViewBatch out;
  out.view1 = Tensor::empty({n, 3, s1, s1});
  out.view2 = Tensor::empty({n, 3, s2, s2});
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = order[begin + k];
    const FloatImage img = to_float(dataset_->image(i));
    Rng rng = sample_rng(options_.seed, epoch, i);
    copy_into(augment(views_.first, img, rng), out.view1, k);
    copy_into(augment(views_.second, img, rng), out.view2, k);
    out.labels.push_back(dataset_->label(i));
    out.indices.push_back(i);
  }
  return out;
}

EvalLoader::EvalLoader(std::shared_ptr<const Dataset> dataset, EvalTransform transform,
                       int64_t batch_size, int threads, int prefetch)
    : dataset_(std::move(dataset)),
      transform_(transform),
      batch_size_(batch_size),
      threads_(threads),
      prefetch_(prefetch) {
  BT_CHECK(dataset_ != nullptr, "eval loader: null dataset");
  BT_CHECK(batch_size_ > 0, "eval loader: batch size must be positive");
  reset();
}

int64_t EvalLoader::num_batches() const {
  return (dataset_->size() + batch_size_ - 1) / batch_size_;
}

void EvalLoader::reset() {
  prefetcher_.start(num_batches(), threads_, prefetch_, [this](int64_t b) { return make_batch(b); });
}

bool EvalLoader::next(EvalBatch& batch) { return prefetcher_.next(batch); }

EvalBatch EvalLoader::make_batch(int64_t b) const {
  const int64_t begin = b * batch_size_;
  const int64_t n = std::min(batch_size_, dataset_->size() - begin);
  const int s = transform_.size;
  EvalBatch out;
  out.images = Tensor::empty({n, 3, s, s});
  for (int64_t k = 0; k < n; ++k) {
    copy_into(eval_view(transform_, to_float(dataset_->image(begin + k))), out.images, k);
    out.labels.push_back(dataset_->label(begin + k));
    out.indices.push_back(begin + k);
  }
  return out;
}

}  // namespace bt::data
