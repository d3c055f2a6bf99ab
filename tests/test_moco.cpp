// MoCo v2 (methods/moco): the InfoNCE loss and its gradient in q against float64 plain loops
// (the softmax-minus-one-hot gradient written out), a gradcheck, the queue's FIFO order and
// wraparound on hand-derived cases (cpu and the SIMT emulator), the key encoder (no gradient,
// the EMA formula after a step, the step's keys enqueued where the write position said), the
// queue through a checkpoint, the recipe, and a few training steps lowering the loss.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "engine/ops.h"
#include "engine/optim/param_groups.h"
#include "engine/optim/sgd.h"
#include "methods/checkpoint.h"
#include "methods/moco/key_queue.h"
#include "methods/moco/moco.h"
#include "methods/moco/moco_loss.h"
#include "methods/registry.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random_vector.h"
#include "tests/support/temp_dir.h"

using namespace bt;
using namespace bt::methods;

namespace {

// Rows of (rows, D) scaled to unit length, in float64.
std::vector<double> unit_rows(std::vector<double> v, int64_t D) {
  for (size_t r = 0; r < v.size() / size_t(D); ++r) {
    double n = 0;
    for (int64_t d = 0; d < D; ++d) n += v[r * size_t(D) + size_t(d)] * v[r * size_t(D) + size_t(d)];
    for (int64_t d = 0; d < D; ++d) v[r * size_t(D) + size_t(d)] /= std::sqrt(n);
  }
  return v;
}

struct Reference {
  double loss;
  std::vector<double> grad_q;  // ∂L/∂q (N, D)
};

// L = (1/N) Σ_n −log softmax(ℓ_n)[0], ℓ_n = [q_n·k_n, q_n·queue_0, …]/τ, and
// ∂L/∂q_n = (1/(Nτ)) (Σ_c p_nc c − k_n) over the candidates c = k_n, queue_0, … .
Reference reference(const std::vector<double>& q, const std::vector<double>& k, const std::vector<double>& queue,
                    int64_t N, int64_t D, int64_t K, double tau) {
  Reference r{0, std::vector<double>(q.size(), 0.0)};
  const auto dot = [&](const std::vector<double>& a, int64_t i, const std::vector<double>& b, int64_t j) {
    double s = 0;
    for (int64_t d = 0; d < D; ++d) s += a[size_t(i * D + d)] * b[size_t(j * D + d)];
    return s;
  };
  for (int64_t n = 0; n < N; ++n) {
    std::vector<double> logit{dot(q, n, k, n) / tau};
    for (int64_t j = 0; j < K; ++j) logit.push_back(dot(q, n, queue, j) / tau);
    double mx = logit[0];
    for (double l : logit) mx = std::max(mx, l);
    double z = 0;
    for (double l : logit) z += std::exp(l - mx);
    r.loss += -(logit[0] - mx - std::log(z)) / double(N);
    for (int64_t d = 0; d < D; ++d) {
      double g = std::exp(logit[0] - mx) / z * k[size_t(n * D + d)] - k[size_t(n * D + d)];
      for (int64_t j = 0; j < K; ++j) g += std::exp(logit[size_t(1 + j)] - mx) / z * queue[size_t(j * D + d)];
      r.grad_q[size_t(n * D + d)] = g / (double(N) * tau);
    }
  }
  return r;
}

MethodConfig tiny_config() {
  MethodConfig c;
  c.method = "moco";
  c.backbone = {.arch = "resnet18", .stem = models::Stem::cifar, .width = 8};
  c.proj_hidden = 32;
  c.proj_out = 16;
  return c;
}

std::vector<std::vector<double>> snapshot(const std::vector<Tensor>& ts) {
  std::vector<std::vector<double>> out;
  for (const Tensor& t : ts) out.push_back(t.to_vector());
  return out;
}

}  // namespace

TEST_CASE("moco: InfoNCE and its gradient in q match the float64 reference", "[moco]") {
  const int64_t N = 3, D = 4, K = 5;
  const double tau = 0.2;
  const auto q = unit_rows(testing::randv<double>(size_t(N * D), 1), D);
  const auto k = unit_rows(testing::randv<double>(size_t(N * D), 2), D);
  const auto queue = unit_rows(testing::randv<double>(size_t(K * D), 3), D);
  const Reference ref = reference(q, k, queue, N, D, K, tau);
  for (const DType dt : {DType::f64, DType::f32}) {
    INFO(dtype_name(dt));
    const double tol = dt == DType::f64 ? 1e-12 : 1e-5;
    Tensor tq = Tensor::from_vector(q, {N, D}, dt), tk = Tensor::from_vector(k, {N, D}, dt);
    tq.requires_grad_();
    tk.requires_grad_();  // a key that asks for a gradient still gets none: keys are constants
    Tensor loss = moco_infonce_loss(tq, tk, Tensor::from_vector(queue, {K, D}, dt), tau);
    CHECK(loss.item() == Approx(ref.loss).epsilon(tol));
    loss.backward();
    const std::vector<double> g = tq.grad().to_vector();
    for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(ref.grad_q[i]).margin(tol).epsilon(tol));
    CHECK_FALSE(tk.grad().defined());
  }
  // With an empty-looking queue (one key equal to the positive) the loss is log 2 exactly
  // when q·k is the only other logit: q = k = queue_0, K = 1.
  Tensor e = Tensor::from_vector(std::vector<double>{1, 0}, {1, 2}, DType::f64);
  CHECK(moco_infonce_loss(e, e, e, 0.2).item() == Approx(std::log(2.0)).epsilon(1e-12));
}

TEST_CASE("moco: gradcheck of InfoNCE in q", "[moco]") {
  Rng rng(4);
  Tensor q = testing::param({4, 3}, rng);
  const Tensor k = rand({4, 3}, rng, -1, 1, DType::f64), queue = rand({6, 3}, rng, -1, 1, DType::f64);
  testing::gradcheck([&](auto& v) { return moco_infonce_loss(v[0], k, queue, 0.2); }, {q});
  testing::gradcheck([&](auto& v) { return moco_infonce_loss(l2_normalize(v[0]), k, queue, 0.5); }, {q});
}

TEST_CASE("moco: the queue is FIFO and wraps around", "[moco]") {
  for (const Device dev : {Device::cpu, Device::simt}) {
    INFO(device_name(dev));
    // K = 5 rows of D = 2, initially row r = (r, −r); keys written are (10·i, 10·i + 1).
    std::vector<double> init;
    for (int r = 0; r < 5; ++r) init.insert(init.end(), {double(r), double(-r)});
    Tensor queue = Tensor::from_vector(init, {5, 2}).to(dev), ptr = Tensor::zeros({1}).to(dev);
    const auto keys = [&](std::vector<int> ids) {
      std::vector<double> v;
      for (int i : ids) v.insert(v.end(), {10.0 * i, 10.0 * i + 1});
      return Tensor::from_vector(v, {int64_t(ids.size()), 2}).to(dev);
    };
    enqueue_keys_(queue, ptr, keys({1, 2}));  // rows 0, 1
    CHECK(ptr.item() == 2);
    CHECK(queue.to_vector() == std::vector<double>{10, 11, 20, 21, 2, -2, 3, -3, 4, -4});
    enqueue_keys_(queue, ptr, keys({3, 4}));  // rows 2, 3
    CHECK(ptr.item() == 4);
    enqueue_keys_(queue, ptr, keys({5, 6, 7}));  // row 4, then rows 0, 1 (the oldest: keys 1, 2)
    CHECK(ptr.item() == 2);
    CHECK(queue.to_vector() == std::vector<double>{60, 61, 70, 71, 30, 31, 40, 41, 50, 51});
    enqueue_keys_(queue, ptr, keys({8, 9, 10, 11, 12}));  // a whole queue's worth: rows 2, 3, 4, 0, 1
    CHECK(ptr.item() == 2);
    CHECK(queue.to_vector() == std::vector<double>{110, 111, 120, 121, 80, 81, 90, 91, 100, 101});
    CHECK_THROWS_WITH(enqueue_keys_(queue, ptr, keys({1, 2, 3, 4, 5, 6})), Catch::Contains("exceed the queue size 5"));
  }
}

TEST_CASE("moco: the queue starts as random unit vectors", "[moco]") {
  Rng rng(3);
  Moco m(tiny_config(), rng, {.queue_size = 64});
  REQUIRE(m.queue().shape() == Shape{64, 16});
  CHECK(m.queue_ptr().item() == 0);
  const std::vector<double> q = m.queue().to_vector();
  double mean = 0;
  for (int64_t r = 0; r < 64; ++r) {
    double n = 0;
    for (int64_t d = 0; d < 16; ++d) n += q[size_t(r * 16 + d)] * q[size_t(r * 16 + d)];
    CHECK(n == Approx(1.0).epsilon(1e-5));
    mean += q[size_t(r * 16)] / 64;
  }
  CHECK(std::abs(mean) < 0.4);  // not one direction repeated
  // Queue and write position are buffers: checkpoints and the rank-0 broadcast carry them.
  const nn::StateDict s = m.state_dict();
  CHECK(s.count("queue") == 1);
  CHECK(s.count("queue_ptr") == 1);
}

TEST_CASE("moco: the key encoder gets no gradient, follows the EMA and its keys are enqueued", "[moco]") {
  Rng rng(7);
  const MocoOptions opt{.queue_size = 40, .momentum = 0.9};
  Moco m(tiny_config(), rng, opt);
  for (auto& [name, p] : m.trainable_parameters()) CHECK(name.rfind("target_", 0) != 0);
  const Tensor x1 = randn({4, 3, 8, 8}, rng), x2 = randn({4, 3, 8, 8}, rng);
  optim::SGD sgd(optim::decay_groups(m.trainable_parameters(), 1e-4));
  sgd.set_lr(0.1);
  const auto key_params = [&] {
    std::vector<Tensor> v = m.key_backbone().parameters();
    for (const Tensor& p : m.key_projector().parameters()) v.push_back(p);
    return v;
  };
  const auto query_params = [&] {
    std::vector<Tensor> v = m.backbone().parameters();
    for (const Tensor& p : m.projector().parameters()) v.push_back(p);
    return v;
  };
  for (int step = 1; step <= 2; ++step) {
    INFO("step " << step);
    const double p0 = m.queue_ptr().item();
    CHECK(p0 == 8 * (step - 1));
    // The keys the step will enqueue: the key encoder's, before its update (its BNs use
    // batch statistics, so a second pass gives the same keys).
    const std::vector<double> k1 = m.keys(x1).to_vector(), k2 = m.keys(x2).to_vector();
    const std::vector<double> queue_before = m.queue().to_vector();
    const auto key_before = snapshot(key_params());
    sgd.zero_grad();
    Tensor loss = m.loss(x1, x2);
    loss.backward();
    for (const Tensor& p : key_params()) CHECK_FALSE(p.grad().defined());
    sgd.step();
    const auto query_after = snapshot(query_params());
    m.after_step(step, 2);
    const auto key_after = snapshot(key_params());
    double moved = 0;
    for (size_t t = 0; t < key_after.size(); ++t)
      for (size_t i = 0; i < key_after[t].size(); ++i) {
        const double want = 0.9 * key_before[t][i] + 0.1 * query_after[t][i];
        CHECK(key_after[t][i] == Approx(want).margin(1e-6));
        moved = std::max(moved, std::abs(key_after[t][i] - key_before[t][i]));
      }
    if (step == 2) CHECK(moved > 0);  // step 1's key encoder equals the query encoder
    // Rows p0 … p0+7 now hold [k1; k2]; the others are unchanged.
    CHECK(m.queue_ptr().item() == p0 + 8);
    const std::vector<double> q = m.queue().to_vector();
    for (int64_t r = 0; r < 40; ++r)
      for (int64_t d = 0; d < 16; ++d) {
        const int64_t j = r - int64_t(p0);
        const double want = j >= 0 && j < 4   ? k1[size_t(j * 16 + d)]
                            : j >= 4 && j < 8 ? k2[size_t((j - 4) * 16 + d)]
                                              : queue_before[size_t(r * 16 + d)];
        CHECK(q[size_t(r * 16 + d)] == Approx(want).margin(1e-6));
      }
  }
}

TEST_CASE("moco: a checkpoint round-trips the queue, its position and the key encoder", "[moco][checkpoint]") {
  testing::TempDir dir;
  Rng rng(8);
  Moco a(tiny_config(), rng, {.queue_size = 20});
  optim::SGD opt_a(optim::decay_groups(a.trainable_parameters(), 1e-4));
  opt_a.set_lr(0.1);
  const Tensor x = randn({3, 3, 8, 8}, rng);
  for (int step = 1; step <= 3; ++step) {  // 3 × 6 keys: the position wraps to 18, then 4
    opt_a.zero_grad();
    a.loss(x, x).backward();
    opt_a.step();
    a.after_step(step, 3);
  }
  REQUIRE(a.queue_ptr().item() == 18);
  save_checkpoint(dir / "ckpt.safetensors", a, opt_a, {.step = 3, .epoch = 1, .rng = {}, .config_json = "{}"});
  Rng other(99);
  Moco b(tiny_config(), other, {.queue_size = 20});
  optim::SGD opt_b(optim::decay_groups(b.trainable_parameters(), 1e-4));
  opt_b.set_lr(0.1);
  REQUIRE(b.queue().to_vector() != a.queue().to_vector());
  load_checkpoint(dir / "ckpt.safetensors", b, opt_b);
  CHECK(b.queue().to_vector() == a.queue().to_vector());
  CHECK(b.queue_ptr().item() == 18);
  CHECK(b.key_projector().parameters()[0].to_vector() == a.key_projector().parameters()[0].to_vector());
}

TEST_CASE("moco: the recipe and the registry entry", "[moco][registry]") {
  const MethodEntry& e = find_method("moco");
  CHECK(e.recipe.optimizer == "sgd");
  CHECK(e.recipe.lr == 0.3);
  CHECK(e.recipe.weight_decay == 1e-4);
  CHECK(e.recipe.views == "simsiam");
  Rng rng(1);
  auto m = e.make(tiny_config(), rng);
  const auto& moco = dynamic_cast<const Moco&>(*m);
  CHECK(moco.options().queue_size == 4096);
  CHECK(moco.options().momentum == 0.99);
  CHECK(moco.options().temperature == 0.2);
  CHECK(moco.options().symmetric);
}

TEST_CASE("moco: 40 optimizer steps lower the loss markedly", "[moco][methods]") {
  // Four batches of 16 images taken in turn, two noisy copies of each image as the views, a
  // queue of 32: it holds the keys of other images only (symmetric: the last batch's two views;
  // otherwise the last two batches' second views), as in an epoch over a dataset larger than
  // the queue. From step 3 on the queue holds no random initial rows (easy negatives: the loss
  // first rises while they are replaced), so the loss is compared from there.
  for (const bool symmetric : {true, false}) {
    INFO("symmetric " << symmetric);
    Rng rng(42);
    Moco m(tiny_config(), rng, {.queue_size = 32, .symmetric = symmetric});
    optim::SGD opt(optim::decay_groups(m.trainable_parameters(), 1e-4));
    opt.set_lr(0.05);
    const Tensor images = randn({64, 3, 12, 12}, rng);
    std::vector<double> losses;
    for (int step = 1; step <= 40; ++step) {
      const int64_t first_image = 16 * ((step - 1) % 4);
      const Tensor x = images.slice(0, first_image, first_image + 16).contiguous();
      const Tensor v1 = add(x, mul(randn(x.shape(), rng), 0.1)), v2 = add(x, mul(randn(x.shape(), rng), 0.1));
      opt.zero_grad();
      Tensor loss = m.loss(v1, v2);
      losses.push_back(loss.item());
      loss.backward();
      opt.step();
      m.after_step(step, 40);
    }
    const double first = (losses[2] + losses[3] + losses[4]) / 3, last = (losses[37] + losses[38] + losses[39]) / 3;
    INFO("loss " << first << " -> " << last);
    REQUIRE(last < 0.6 * first);
  }
}
