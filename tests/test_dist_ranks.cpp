// The process group and the data-parallel step, run by ctest under `mpirun -np 2` and
// `mpirun -np 3` (tests/CMakeLists.txt; 3 catches power-of-two assumptions). Every rank runs
// every case in the same order; checks use CHECK, not REQUIRE, so a failing rank still joins
// the collectives that follow (a rank that left them would end the job at the timeout).
//
// References are independent of the code under test: hand-derived sums for the collectives,
// and the one-process computation on the whole global batch (the fused kernels, no collective
// at all) for SyncBN and each method's loss and gradients.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/dist/collectives.h"
#include "engine/nn/batch_norm.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "methods/method.h"
#include "tests/support/check_close.h"

using namespace bt;

namespace {

dist::ProcessGroup& world() {
  static std::shared_ptr<dist::ProcessGroup> group = dist::make_mpi_group(/*timeout_s=*/60);
  return *group;
}

// This rank's rows of a global batch (N_global, ...), as the loader shards it (data/loader.h).
Tensor shard(const Tensor& global) {
  const int64_t n = global.size(0) / world().world_size();
  return global.slice(0, world().rank() * n, (world().rank() + 1) * n).contiguous();
}

// max |got − ref| ≤ rtol · max |ref| + atol: a tolerance relative to the tensor's scale, since
// float32 rounding errors scale with the magnitudes summed, not with each element.
void check_close_scaled(const Tensor& got, const Tensor& ref, double rtol, double atol, const std::string& what) {
  const std::vector<double> g = got.to_vector(), r = ref.to_vector();
  CHECK(g.size() == r.size());
  double scale = 0, err = 0;
  for (size_t i = 0; i < r.size() && i < g.size(); ++i) {
    scale = std::max(scale, std::fabs(r[i]));
    err = std::max(err, std::fabs(g[i] - r[i]));
  }
  INFO(what << ": max error " << err << " at scale " << scale);
  CHECK(err <= rtol * scale + atol);
}

}  // namespace

TEST_CASE("all_reduce, all_gather, broadcast and barrier give the hand-computed values") {
  dist::ProcessGroup& g = world();
  const int r = g.rank(), W = g.world_size();
  REQUIRE(W >= 2);
  // x_r[i] = (r + 1)·(i + 1): Σ_r = (i + 1)·W(W + 1)/2.
  std::vector<float> mine(5);
  for (int i = 0; i < 5; ++i) mine[i] = float((r + 1) * (i + 1));
  Tensor x = Tensor::from_vector(mine, {5});
  g.all_reduce_sum_(x);
  for (int i = 0; i < 5; ++i) CHECK(x.to_vector()[i] == Approx((i + 1) * W * (W + 1) / 2.0));

  Tensor rows = Tensor::full({2, 3}, double(r));
  const std::vector<double> gathered = g.all_gather(rows).to_vector();
  CHECK(gathered.size() == size_t(6 * W));
  for (size_t k = 0; k < gathered.size(); ++k) CHECK(gathered[k] == double(k / 6));  // rank order

  Tensor b = Tensor::full({4}, r == 0 ? 7.5 : -1.0, DType::f64);
  g.broadcast_(b, 0);
  for (double v : b.to_vector()) CHECK(v == 7.5);
  g.barrier();
  CHECK(g.stats().calls >= 3);
}

TEST_CASE("differentiable all_reduce_sum and all_gather: backward sums the ranks' gradients") {
  dist::ProcessGroup& g = world();
  const int r = g.rank(), W = g.world_size();
  // L_r = Σ_i w_r[i] · y[i] with y = Σ_s x_s and w_r[i] = r + i: ∂(Σ_r L_r)/∂x_s[i] = Σ_r (r + i).
  Tensor x = Tensor::full({3}, 1.0 + r).requires_grad_();
  std::vector<float> w(3);
  for (int i = 0; i < 3; ++i) w[i] = float(r + i);
  Tensor y = dist::all_reduce_sum(x, g);
  for (double v : y.to_vector()) CHECK(v == Approx(W * (W + 1) / 2.0));
  sum(mul(y, Tensor::from_vector(w, {3}))).backward();
  for (int i = 0; i < 3; ++i) CHECK(x.grad().to_vector()[i] == Approx(W * (W - 1) / 2.0 + W * i));

  // L_r = Σ_k v_r[k] · gathered[k], v_r[k] = (r + 1)·k over the W·2 rows: the gradient of x_s (2)
  // is Σ_r (r + 1)·k at rows k = 2s, 2s + 1, i.e. k·W(W + 1)/2.
  Tensor x2 = Tensor::full({2}, double(r)).requires_grad_();
  Tensor gathered = dist::all_gather(x2, g);
  std::vector<float> v(size_t(2 * W));
  for (int k = 0; k < 2 * W; ++k) v[k] = float((r + 1) * k);
  sum(mul(gathered, Tensor::from_vector(v, {2 * W}))).backward();
  for (int j = 0; j < 2; ++j) CHECK(x2.grad().to_vector()[j] == Approx((2 * r + j) * W * (W + 1) / 2.0));
}

TEST_CASE("SyncBN on the shards equals BatchNorm on the global batch: output, gradients, running stats") {
  dist::ProcessGroup& g = world();
  const int64_t W = g.world_size(), N = 4 * W;
  for (const bool image : {false, true}) {
    Rng rng(11);
    const Tensor x_global = image ? add(mul(randn({N, 3, 5, 5}, rng), 2.0), 3.0) : add(randn({N, 6}, rng), -1.0);
    const Tensor w_global = randn(x_global.shape(), rng);  // L = Σ y ⊙ w
    const int64_t C = x_global.size(1);
    auto make_bn = [&]() -> std::shared_ptr<nn::BatchNorm> {
      if (image) return std::make_shared<nn::BatchNorm2d>(C);
      return std::make_shared<nn::BatchNorm1d>(C);
    };
    auto reference = make_bn(), synced = make_bn();
    for (auto* bn : {reference.get(), synced.get()}) {
      Rng init(5);
      bn->weight.copy_(rand({C}, init, 0.5, 1.5));
      bn->bias.copy_(randn({C}, init));
    }
    synced->set_sync_group(std::shared_ptr<dist::ProcessGroup>(&g, [](dist::ProcessGroup*) {}));

    Tensor x_ref = x_global.clone().requires_grad_();
    Tensor y_ref = reference->forward(x_ref);
    sum(mul(y_ref, w_global)).backward();

    Tensor x = shard(x_global).requires_grad_();
    Tensor y = synced->forward(x);
    sum(mul(y, shard(w_global))).backward();  // Σ_r L_r = the reference's L
    // Float32: the reference sums in another order than the shards (~1e-6 relative); 1e-5 leaves
    // room for the rounding of N ≤ 300 terms, far below an error in the statistics (≥ 1e-2).
    testing::check_close(y.to_vector(), shard(y_ref).to_vector(), 1e-5, 1e-5, "SyncBN output");
    testing::check_close(x.grad().to_vector(), shard(x_ref.grad()).to_vector(), 1e-5, 1e-5, "SyncBN dx");
    // γ, β gradients are per rank: their sum over ranks is the reference's.
    for (auto [p, ref] : {std::pair{synced->weight, reference->weight}, std::pair{synced->bias, reference->bias}}) {
      Tensor total = p.grad().contiguous().clone();
      g.all_reduce_sum_(total);
      testing::check_close(total.to_vector(), ref.grad().to_vector(), 1e-5, 1e-5, "SyncBN dgamma/dbeta");
    }
    testing::check_close(synced->running_mean.to_vector(), reference->running_mean.to_vector(), 1e-6, 1e-6,
                         "running_mean");
    testing::check_close(synced->running_var.to_vector(), reference->running_var.to_vector(), 1e-6, 1e-6,
                         "running_var");
  }
}

TEST_CASE("one data-parallel step of each method equals one process on the global batch") {
  dist::ProcessGroup& g = world();
  const int64_t W = g.world_size(), N = 4 * W;  // a global batch of 8 or 12
  auto group = std::shared_ptr<dist::ProcessGroup>(&g, [](dist::ProcessGroup*) {});
  for (const char* name : {"barlow", "byol", "simsiam", "simclr"}) {
    INFO(name);
    methods::MethodConfig cfg;
    cfg.method = name;
    cfg.backbone = {.arch = "resnet18", .stem = models::Stem::cifar, .width = 4};
    cfg.proj_hidden = 24;
    cfg.proj_out = 16;
    cfg.pred_hidden = 8;
    cfg.temperature = 0.5;
    Rng init1(3), initk(3);
    auto single = methods::make_method(cfg, init1);
    auto parallel = methods::make_method(cfg, initk);
    parallel->set_process_group(group, /*sync_backbone_bn=*/true);  // every BN over the global batch

    Rng data(17);
    const Tensor v1 = randn({N, 3, 8, 8}, data), v2 = randn({N, 3, 8, 8}, data);
    Tensor loss1 = single->loss(v1, v2);
    loss1.backward();

    Tensor loss_local = parallel->loss(shard(v1), shard(v2));
    loss_local.backward();
    Tensor loss_k = Tensor::full({1}, loss_local.item() / double(W));
    g.all_reduce_sum_(loss_k);  // the global loss: the mean of the ranks' losses
    std::vector<Tensor> params;
    for (auto& [n, p] : parallel->trainable_parameters()) params.push_back(p);
    dist::average_gradients(params, g, /*bucket_bytes=*/4096);  // several buckets

    // Float32 tolerance: the shards sum each BatchNorm statistic, the cross-correlation and the
    // gradients in another order than one process, each sum off by a few ulp (~1e-7 relative);
    // ~20 layers of backward amplify that: measured ≤ 3.3e-5 of each gradient's scale at 2 and
    // 3 ranks. 2e-4 of the scale leaves a factor 6, while a wrong factor (1/W), a missed rank
    // or per-rank statistics are errors of 10-100 % of it. atol 1e-6: the biases of Linears
    // followed by a BatchNorm have a zero gradient in exact arithmetic (BN removes a shift);
    // their reference is rounding noise (~1e-8) and their error ~1e-7, while the smallest
    // real gradient scale here is ~1e-2.
    CHECK(loss_k.item() == Approx(loss1.item()).epsilon(1e-5).margin(1e-5));  // SimSiam: −1 + O(1) terms
    const auto ref = single->trainable_parameters();
    REQUIRE(ref.size() == params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      REQUIRE(ref[i].second.grad().defined());
      check_close_scaled(params[i].grad(), ref[i].second.grad(), 2e-4, 1e-6, ref[i].first);
    }
    // SyncBN updated the running statistics with the global batch's.
    const auto ref_buffers = single->named_buffers();
    const auto buffers = parallel->named_buffers();
    for (size_t i = 0; i < buffers.size(); ++i)
      check_close_scaled(buffers[i].second, ref_buffers[i].second, 1e-5, 1e-6, ref_buffers[i].first);
  }
}
