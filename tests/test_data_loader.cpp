// Loaders: batch shapes and labels, epochs as permutations, drop_last, determinism across
// thread counts and prefetch depths, per-epoch augmentation, eval order, error propagation.
#include <catch2/catch.hpp>

#include <cstring>
#include <set>

#include "data/loader.h"
#include "data/synthetic.h"

using namespace bt;
using namespace bt::data;

namespace {

std::shared_ptr<SyntheticDataset> synthetic(int64_t n) {
  SyntheticOptions opt;
  opt.size = n;
  opt.seed = 11;
  return std::make_shared<SyntheticDataset>(opt);
}

LoaderOptions options(int64_t batch, int threads, int prefetch = 4) {
  LoaderOptions o;
  o.batch_size = batch;
  o.seed = 42;
  o.threads = threads;
  o.prefetch = prefetch;
  return o;
}

std::vector<TwoViewBatch> epoch(TwoViewLoader& loader, int64_t e) {
  loader.start_epoch(e);
  std::vector<TwoViewBatch> out;
  TwoViewBatch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data<float>(), b.data<float>(), a.numel() * sizeof(float)) == 0;
}

// One sample's view k as a tensor slice copy.
std::vector<float> sample(const Tensor& views, int64_t k) {
  const int64_t n = views.numel() / views.size(0);
  return std::vector<float>(views.data<float>() + k * n, views.data<float>() + (k + 1) * n);
}

// A dataset whose image 7 cannot be decoded.
struct Broken : Dataset {
  std::shared_ptr<SyntheticDataset> base = synthetic(40);
  int64_t size() const override { return base->size(); }
  int num_classes() const override { return 10; }
  int label(int64_t i) const override { return base->label(i); }
  Image image(int64_t i) const override {
    BT_CHECK(i != 7, "cannot decode /data/broken_7.jpg");
    return base->image(i);
  }
};

}  // namespace

TEST_CASE("two-view batches: shapes, labels, epochs are permutations, drop_last") {
  auto ds = synthetic(100);
  ViewPair views = asymmetric_views(32, true);
  views.second.size = 24;
  TwoViewLoader loader(ds, views, options(32, 2));
  REQUIRE(loader.batches_per_epoch() == 3);
  TwoViewBatch none;
  REQUIRE_FALSE(loader.next(none));  // not started
  const auto batches = epoch(loader, 0);
  REQUIRE(batches.size() == 3);
  std::set<int64_t> seen;
  for (const auto& b : batches) {
    REQUIRE(b.view1.shape() == Shape{32, 3, 32, 32});
    REQUIRE(b.view2.shape() == Shape{32, 3, 24, 24});
    REQUIRE(b.view1.dtype() == DType::f32);
    REQUIRE(b.labels.size() == 32);
    for (size_t k = 0; k < b.indices.size(); ++k) {
      REQUIRE(b.labels[k] == ds->label(b.indices[k]));
      seen.insert(b.indices[k]);
    }
  }
  REQUIRE(seen.size() == 96);  // distinct samples; the 4 left over are dropped

  LoaderOptions keep = options(32, 2);
  keep.drop_last = false;
  TwoViewLoader all(ds, views, keep);
  const auto full = epoch(all, 0);
  REQUIRE(full.size() == 4);
  REQUIRE(full.back().view1.size(0) == 4);
  REQUIRE_THROWS_WITH(TwoViewLoader(synthetic(10), views, options(32, 1)),
                      Catch::Contains("no full batch"));
}

TEST_CASE("views are augment(view, image, sample_rng(seed, epoch, index))") {
  auto ds = synthetic(20);
  const ViewPair views = symmetric_views(32, true);
  TwoViewLoader loader(ds, views, options(10, 2));
  const auto batches = epoch(loader, 3);
  const TwoViewBatch& b = batches[1];
  for (int64_t k : {0, 9}) {
    const int64_t i = b.indices[k];
    Rng rng = sample_rng(42, 3, i);
    const FloatImage img = to_float(ds->image(i));
    REQUIRE(sample(b.view1, k) == augment(views.first, img, rng).data);
    REQUIRE(sample(b.view2, k) == augment(views.second, img, rng).data);
  }
  REQUIRE(epoch_order(20, 42, 3, true) != epoch_order(20, 42, 4, true));
  REQUIRE(epoch_order(5, 42, 3, false) == std::vector<int64_t>{0, 1, 2, 3, 4});
}

TEST_CASE("determinism: identical batches with 1 or 2 threads and any prefetch depth") {
  auto ds = synthetic(96);
  const ViewPair views = asymmetric_views(32, false);  // blur on: every step exercised
  TwoViewLoader one(ds, views, options(16, 1, 1)), two(ds, views, options(16, 2, 8));
  for (int64_t e : {0, 1}) {
    const auto a = epoch(one, e), b = epoch(two, e);
    REQUIRE(a.size() == b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      REQUIRE(a[k].indices == b[k].indices);
      REQUIRE(same_bytes(a[k].view1, b[k].view1));
      REQUIRE(same_bytes(a[k].view2, b[k].view2));
    }
  }
}

TEST_CASE("different epochs give the same sample different crops") {
  auto ds = synthetic(32);
  LoaderOptions o = options(32, 2);
  o.shuffle = false;  // sample k sits at row k in both epochs
  TwoViewLoader loader(ds, asymmetric_views(32, true), o);
  const auto e0 = epoch(loader, 0), e1 = epoch(loader, 1), again = epoch(loader, 0);
  REQUIRE(e0[0].indices == e1[0].indices);
  int differ = 0;
  for (int64_t k = 0; k < 32; ++k) differ += sample(e0[0].view1, k) != sample(e1[0].view1, k);
  REQUIRE(differ == 32);
  REQUIRE(same_bytes(e0[0].view1, again[0].view1));
  REQUIRE_FALSE(same_bytes(e0[0].view1, e0[0].view2));  // the two views differ
}

TEST_CASE("restarting an epoch midway and a worker's error") {
  auto ds = synthetic(64);
  TwoViewLoader loader(ds, symmetric_views(32, true), options(8, 2, 2));
  loader.start_epoch(0);
  TwoViewBatch b;
  REQUIRE(loader.next(b));
  const auto full = epoch(loader, 0);  // abandons the running epoch
  REQUIRE(full.size() == 8);
  REQUIRE(same_bytes(full[0].view1, b.view1));

  TwoViewLoader broken(std::make_shared<Broken>(), symmetric_views(32, true), options(4, 2));
  broken.start_epoch(0);
  auto drain = [&] {
    while (broken.next(b)) {
    }
  };
  REQUIRE_THROWS_WITH(drain(), Catch::Contains("broken_7.jpg"));
}

TEST_CASE("eval loader: dataset order, last partial batch, eval view, repeatable passes") {
  auto ds = synthetic(50);
  EvalTransform t;
  EvalLoader loader(ds, t, 16, 2);
  REQUIRE(loader.num_batches() == 4);
  std::vector<EvalBatch> pass;
  EvalBatch b;
  while (loader.next(b)) pass.push_back(b);
  REQUIRE(pass.size() == 4);
  REQUIRE(pass[3].images.shape() == Shape{2, 3, 32, 32});
  for (size_t k = 0; k < pass.size(); ++k)
    for (size_t j = 0; j < pass[k].indices.size(); ++j) {
      REQUIRE(pass[k].indices[j] == int64_t(k * 16 + j));
      REQUIRE(pass[k].labels[j] == ds->label(pass[k].indices[j]));
    }
  REQUIRE(sample(pass[1].images, 3) == eval_view(t, to_float(ds->image(19))).data);
  loader.reset();
  REQUIRE(loader.next(b));
  REQUIRE(same_bytes(b.images, pass[0].images));
}
