// --precision bf16 at the op level (engine/precision.h): inside a PrecisionScope(bf16), float32
// conv2d and matmul on the cpu device compute on bf16-rounded inputs with float32 sums, forward
// and backward; the backward keeps its forward's precision wherever backward() is called. The
// expected values are the float64 ops (and their autograd) on the bf16-rounded tensors.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

#include "engine/error.h"
#include "engine/ops.h"
#include "engine/precision.h"
#include "engine/rng.h"
#include "methods/barlow_twins/barlow_twins_loss.h"

using namespace bt;

namespace {

// Each element rounded to the nearest bf16, ties to even (the upper 16 bits after adding half
// an ulp of the lower ones), as float64.
Tensor bf16_rounded_f64(const Tensor& t) {
  std::vector<double> v = t.to_vector();
  for (double& d : v) {
    float f = float(d);
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    std::memcpy(&f, &u, 4);
    d = f;
  }
  return Tensor::from_vector(v, t.shape());
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector(), y = b.to_vector();
  REQUIRE(x.size() == y.size());
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

struct Run {
  Tensor out, grad_a, grad_b;
};

// op(a, b), then ∂/∂a and ∂/∂b of Σ op(a, b)·g (so the upstream gradient is g), backward()
// called after the scope (if any) has ended.
Run run(const std::function<Tensor(const Tensor&, const Tensor&)>& op, Tensor a, Tensor b, const Tensor& g,
        bool bf16) {
  a = a.detach().requires_grad_();
  b = b.detach().requires_grad_();
  Tensor out, loss;
  {
    PrecisionScope scope(bf16 ? Precision::bf16 : Precision::f32);
    out = op(a, b);
    loss = sum(mul(out, g));
  }
  loss.backward();
  return {out.detach(), a.grad(), b.grad()};
}

// bf16 against the float64 op on the rounded a, b and g (tolerance `tol`: float32 sums), but
// ∂/∂b against the float64 op on the unrounded ones where `grad_b_in_f32`; and the float32 op
// (no scope) further from it than that, so bf16 was in use.
void check_bf16(const std::function<Tensor(const Tensor&, const Tensor&)>& op, const Tensor& a, const Tensor& b,
                const Tensor& g, double tol, bool grad_b_in_f32 = false) {
  const Run got = run(op, a, b, g, true);
  const Run want = run(op, bf16_rounded_f64(a), bf16_rounded_f64(b), bf16_rounded_f64(g), false);
  CHECK(max_abs_diff(got.out, want.out) <= tol);
  CHECK(max_abs_diff(got.grad_a, want.grad_a) <= tol);
  const Tensor want_grad_b =
      grad_b_in_f32 ? run(op, a.to(DType::f64), b.to(DType::f64), g.to(DType::f64), false).grad_b : want.grad_b;
  CHECK(max_abs_diff(got.grad_b, want_grad_b) <= tol);
  const Run f32 = run(op, a, b, g, false);
  CHECK(max_abs_diff(f32.out, want.out) > tol);
  CHECK(max_abs_diff(f32.grad_a, want.grad_a) > tol);
}

}  // namespace

TEST_CASE("matmul under PrecisionScope(bf16) computes forward and backward on bf16-rounded inputs", "[bf16]") {
  Rng rng(1);
  const Tensor a = randn({33, 70}, rng), b = randn({70, 45}, rng), g = randn({33, 45}, rng);
  check_bf16([](const Tensor& x, const Tensor& y) { return matmul(x, y); }, a, b, g, 2e-4);
  // transposed views reach the GEMM as transposes (no copy), also in bf16
  check_bf16([](const Tensor& x, const Tensor& y) { return matmul(x.t(), y.t()); }, a.t().contiguous(),
             b.t().contiguous(), g, 2e-4);
}

// Which passes run in bf16 is kernels/cpu/conv2d.cpp's best_conv_algo_bf16: all three of a 3×3
// convolution over ≥ 16 channels, but the weight gradient of a strided one in float32; a 1×1 one
// and the 3-channel stem in float32 throughout.
TEST_CASE("conv2d under PrecisionScope(bf16) computes forward and backward on bf16-rounded inputs", "[bf16]") {
  Rng rng(2);
  const Tensor x = randn({4, 16, 9, 9}, rng), w = randn({8, 16, 3, 3}, rng);
  check_bf16([](const Tensor& a, const Tensor& b) { return conv2d(a, b, 1, 1); }, x, w, randn({4, 8, 9, 9}, rng),
             2e-4 * std::sqrt(4.0 * 81));
  check_bf16([](const Tensor& a, const Tensor& b) { return conv2d(a, b, 2, 0); }, x, w, randn({4, 8, 4, 4}, rng),
             2e-4 * std::sqrt(4.0 * 16), /*grad_b_in_f32=*/true);
}

TEST_CASE("conv2d under PrecisionScope(bf16) keeps 1x1 and 3-channel convolutions in float32", "[bf16]") {
  Rng rng(4);
  for (const auto& [x, w] : {std::pair{randn({4, 16, 6, 6}, rng), randn({8, 16, 1, 1}, rng)},
                             std::pair{randn({4, 3, 6, 6}, rng), randn({8, 3, 3, 3}, rng)}}) {
    const Tensor g = randn({4, 8, 6, 6}, rng);
    const int64_t pad = w.size(2) / 2;
    auto op = [pad](const Tensor& a, const Tensor& b) { return conv2d(a, b, 1, pad); };
    const Run got = run(op, x, w, g, true);
    const Run want = run(op, x.to(DType::f64), w.to(DType::f64), g.to(DType::f64), false);
    CHECK(max_abs_diff(got.out, want.out) <= 1e-4);
    CHECK(max_abs_diff(got.grad_a, want.grad_a) <= 1e-4);
    CHECK(max_abs_diff(got.grad_b, want.grad_b) <= 1e-3);
  }
}

// The fused Barlow Twins loss under bf16 rounds the operands of its three D×D GEMMs (ẑ and G),
// as the loss composed of ops does through its matmul (C = ẑ1ᵀ ẑ2 / N and the matmul's
// backward): they agree up to float32 sums and the few operands whose bf16 rounding flips (ẑ
// and G are computed in other orders: measured 5e-7 of the loss, 3e-4 of the largest gradient),
// and float32 is 10× further (1.5e-4, 4e-3).
TEST_CASE("barlow_twins_loss under PrecisionScope(bf16) rounds its GEMM operands like composed matmuls", "[bf16]") {
  Rng rng(5);
  const Tensor z1 = add(randn({64, 96}, rng), 3.0), z2 = add(mul(z1, 0.8), mul(randn({64, 96}, rng), 0.6));
  const Tensor one = Tensor::ones({});  // the upstream gradient
  auto fused = [](const Tensor& a, const Tensor& b) { return methods::barlow_twins_loss(a, b, 0.0051); };
  auto composed = [](const Tensor& a, const Tensor& b) { return methods::composed::barlow_twins_loss(a, b, 0.0051); };
  const Run got = run(fused, z1, z2, one, true), want = run(composed, z1, z2, one, true);
  const Run f32 = run(fused, z1, z2, one, false);
  const double loss = want.out.item(), grad = max_abs_diff(want.grad_a, Tensor::zeros(want.grad_a.shape()));
  INFO("loss " << loss << ", largest gradient " << grad);
  CHECK(std::abs(got.out.item() - loss) <= 1e-5 * loss);
  CHECK(max_abs_diff(got.grad_a, want.grad_a) <= 1e-3 * grad);
  CHECK(max_abs_diff(got.grad_b, want.grad_b) <= 1e-3 * grad);
  CHECK(std::abs(f32.out.item() - loss) > 1e-5 * loss);
  CHECK(max_abs_diff(f32.grad_a, want.grad_a) > 1e-3 * grad);
}

TEST_CASE("PrecisionScope nests and restores; float64 ignores bf16", "[bf16]") {
  CHECK(compute_precision() == Precision::f32);
  {
    PrecisionScope outer(Precision::bf16);
    CHECK(compute_precision() == Precision::bf16);
    {
      PrecisionScope inner(Precision::f32);
      CHECK(compute_precision() == Precision::f32);
    }
    CHECK(compute_precision() == Precision::bf16);
    Rng rng(3);
    const Tensor a = randn({5, 7}, rng, DType::f64), b = randn({7, 3}, rng, DType::f64);
    const std::vector<double> av = a.to_vector(), bv = b.to_vector(), cv = matmul(a, b).to_vector();
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 3; ++j) {
        double want = 0;
        for (int k = 0; k < 7; ++k) want += av[size_t(i * 7 + k)] * bv[size_t(k * 3 + j)];
        CHECK(std::abs(cv[size_t(i * 3 + j)] - want) <= 1e-13);
      }
  }
  CHECK(compute_precision() == Precision::f32);
}

TEST_CASE("parse_precision takes f32 and bf16 and names the flag otherwise", "[bf16]") {
  CHECK(parse_precision("f32") == Precision::f32);
  CHECK(parse_precision("bf16") == Precision::bf16);
  CHECK(std::string(to_string(Precision::bf16)) == "bf16");
  CHECK_THROWS_WITH(parse_precision("fp16", "--precision"),
                    "--precision: unknown precision 'fp16', expected f32 or bf16");
  CHECK_NOTHROW(check_precision_supported(Precision::f32));
}

namespace {

// A residual block's first half: x → BN-ReLU → conv → BN, then Σ out·g; `fresh_copies` puts
// ops between the convolution and its neighbours that copy values exactly (clone, ·1) into
// storages without bf16 roundings, so that the convolution rounds its own copies.
struct BlockRun {
  Tensor h, out, grad_x, grad_w;
};
BlockRun block(const Tensor& x0, const Tensor& w0, const Tensor& g, bool fresh_copies) {
  const Tensor x = x0.detach().requires_grad_(), w = w0.detach().requires_grad_();
  const int64_t C = x.size(1), K = w.size(0);
  const Tensor ones_c = Tensor::ones({C}), zeros_c = Tensor::zeros({C}), ones_k = Tensor::ones({K}),
               zeros_k = Tensor::zeros({K});
  BlockRun r;
  Tensor loss;
  {
    PrecisionScope scope(Precision::bf16);
    r.h = batch_norm_relu(x, ones_c, zeros_c, Tensor(), Tensor(), true, 0.1, 1e-5);
    Tensor y = conv2d(fresh_copies ? r.h.clone() : r.h, w, 1, 1);
    if (fresh_copies) y = mul(y, 1.0);
    r.out = batch_norm(y, ones_k, zeros_k, Tensor(), Tensor(), true, 0.1, 1e-5);
    loss = sum(mul(r.out, g));
  }
  loss.backward();
  r.grad_x = x.grad();
  r.grad_w = w.grad();
  return r;
}

bool same_values(const Tensor& a, const Tensor& b) { return a.to_vector() == b.to_vector(); }

}  // namespace

// Under bf16, BN-ReLU and add_relu leave the bf16 rounding of their blocked output beside it, and
// a training BN that of its dx (engine/tensor.h); the bf16 convolutions read those instead of
// rounding copies of their own, which must change nothing, bit for bit.
TEST_CASE("conv2d under bf16 reads the roundings its producers leave, with the results of rounding its own", "[bf16]") {
  Rng rng(7);
  const Tensor x = randn({4, 16, 8, 8}, rng).to(Layout::nChw16c), w = randn({32, 16, 3, 3}, rng),
               g = randn({4, 32, 8, 8}, rng);
  const BlockRun left = block(x, w, g, false), own = block(x, w, g, true);
  REQUIRE(left.h.bf16_rounding() != nullptr);
  REQUIRE(left.out.layout() == Layout::nChw16c);
  CHECK(same_values(left.out, own.out));
  CHECK(same_values(left.grad_w, own.grad_w));
  CHECK(same_values(left.grad_x, own.grad_x));
  {
    PrecisionScope scope(Precision::bf16);
    const Tensor a = randn({4, 16, 8, 8}, rng).to(Layout::nChw16c), b = randn({4, 16, 8, 8}, rng).to(Layout::nChw16c);
    CHECK(add_relu(a, b).bf16_rounding() != nullptr);
  }
  // The convolution does read the rounding: zeroing it zeroes the output.
  const Tensor h = left.h.detach();
  std::fill_n(const_cast<uint16_t*>(h.bf16_rounding()), h.numel(), uint16_t(0));
  {
    PrecisionScope scope(Precision::bf16);
    CHECK(max_abs_diff(conv2d(h, w, 1, 1), Tensor::zeros({4, 32, 8, 8})) == 0);
  }
  // float32 leaves none.
  CHECK(batch_norm_relu(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5).bf16_rounding() == nullptr);
  // A convolution whose weight gradient runs in float32 (a strided one, kernels/cpu/conv2d.cpp)
  // drops its input's rounding instead of keeping it alive until backward; a bf16 one keeps it.
  PrecisionScope scope(Precision::bf16);
  const Tensor wg = w.detach().requires_grad_();
  const Tensor kept = batch_norm_relu(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5);
  const Tensor y1 = conv2d(kept, wg, 1, 1);
  CHECK(kept.bf16_rounding() != nullptr);
  const Tensor dropped = batch_norm_relu(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5);
  const Tensor y2 = conv2d(dropped, wg, 2, 1);
  CHECK(dropped.bf16_rounding() == nullptr);
}

TEST_CASE("in-place writes drop a tensor's bf16 rounding, so that it never goes stale", "[bf16]") {
  Rng rng(8);
  const Tensor x = randn({2, 16, 4, 4}, rng).to(Layout::nChw16c);
  PrecisionScope scope(Precision::bf16);
  auto fresh = [&] { return batch_norm_relu(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5); };
  Tensor y = fresh();
  REQUIRE(y.bf16_rounding() != nullptr);
  y.detach().copy_(x);  // through another handle of the same storage
  CHECK(y.bf16_rounding() == nullptr);
  y = fresh();
  y.fill_(1);
  CHECK(y.bf16_rounding() == nullptr);
  y = fresh();
  add_into(y, x);
  CHECK(y.bf16_rounding() == nullptr);
  y = fresh();
  CHECK(y.slice(0, 0, 1).bf16_rounding() == nullptr);  // a view of part of the storage
}
