// CPU NN kernels: batch_norm, pool, softmax, reduce, normalize.
// Every fast version is compared with its reference on a grid of shapes (ragged, batch 1,
// ResNet-ish); every backward is checked by central finite differences of its forward in
// double; small hand-derived cases pin the references themselves.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

#include "support/check_close.h"
#include "support/random_vector.h"
#include "kernels/cpu/batch_norm.h"
#include "kernels/cpu/bf16.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/normalize.h"
#include "kernels/cpu/pool.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/softmax.h"

using namespace bt::cpu;

using bt::testing::check_close;
using bt::testing::randv;

namespace {

// The fast training kernels without their optional bf16 output, of the reference versions'
// type, so that a test picks either through one function pointer.
template <class T>
void fast_forward_train(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma, const T* beta, T eps,
                        T momentum, T* y, T* mean, T* invstd, T* rm, T* rv, ChannelLayout layout) {
  batch_norm_forward_train<T>(N, C, HW, x, gamma, beta, eps, momentum, y, mean, invstd, rm, rv, layout);
}
template <class T>
void fast_backward_train(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x, const T* gamma, const T* mean,
                         const T* invstd, T* dx, T* dgamma, T* dbeta, ChannelLayout layout) {
  batch_norm_backward_train<T>(N, C, HW, dy, x, gamma, mean, invstd, dx, dgamma, dbeta, layout);
}

// An output buffer followed by a guard zone of sentinels that no kernel may touch.
template <class T>
struct Guarded {
  static constexpr size_t kGuard = 16;
  static constexpr T kSentinel = T(-12345.625);
  size_t n;
  std::vector<T> v;
  explicit Guarded(size_t n_) : n(n_), v(n_ + kGuard, kSentinel) {}
  T* data() { return v.data(); }
  std::vector<T> values() const {
    for (size_t i = n; i < v.size(); ++i) REQUIRE(v[i] == kSentinel);
    return {v.begin(), v.begin() + n};
  }
};

// Central differences of L(x) = Σ_i w_i f(x)_i, compared with the analytic ∂L/∂x `grad`.
using VecFn = std::function<std::vector<double>(const std::vector<double>&)>;
void check_fd(const VecFn& f, std::vector<double> x, const std::vector<double>& w,
              const std::vector<double>& grad, const char* what, double atol = 1e-6,
              double rtol = 1e-5, double h = 1e-6) {
  auto L = [&](const std::vector<double>& v) {
    const std::vector<double> y = f(v);
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i) s += w[i] * y[i];
    return s;
  };
  std::vector<double> fd(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double s = x[i];
    x[i] = s + h;
    const double lp = L(x);
    x[i] = s - h;
    const double lm = L(x);
    x[i] = s;
    fd[i] = (lp - lm) / (2 * h);
  }
  check_close(grad, fd, atol, rtol, what);
}

// Tolerances for fast-vs-reference comparisons.
template <class T>
constexpr double kTol = std::is_same_v<T, float> ? 2e-5 : 1e-11;

}  // namespace

// ----------------------------------------------------------------------------------------------
// batch_norm

TEST_CASE("batch_norm: hand-derived 2-sample column", "[batch_norm]") {
  // x = [1, 3]: mean 2, biased var 1, unbiased var 2, x̂ = ∓1/sqrt(1 + eps).
  const double eps = 1e-5, is = 1 / std::sqrt(1 + eps);
  for (bool fast : {false, true}) {
    std::vector<double> x{1, 3}, gamma{2}, beta{0.5}, rm{0}, rv{1}, y(2), mean(1), invstd(1);
    auto f = fast ? fast_forward_train<double> : batch_norm_forward_train_ref<double>;
    f(2, 1, 1, x.data(), gamma.data(), beta.data(), eps, 0.1, y.data(), mean.data(),
      invstd.data(), rm.data(), rv.data(), ChannelLayout::nchw);
    CHECK(y[0] == Approx(0.5 - 2 * is).epsilon(1e-14));
    CHECK(y[1] == Approx(0.5 + 2 * is).epsilon(1e-14));
    CHECK(mean[0] == Approx(2).epsilon(1e-15));
    CHECK(invstd[0] == Approx(is).epsilon(1e-15));
    CHECK(rm[0] == Approx(0.9 * 0 + 0.1 * 2).epsilon(1e-15));
    CHECK(rv[0] == Approx(0.9 * 1 + 0.1 * 2).epsilon(1e-15));  // unbiased var 2
    // dy = [1, 0]: Σdy = 1, Σdy x̂ = −is; dx = γ is/2 · (2dy − 1 + x̂·is)
    std::vector<double> dy{1, 0}, dx(2), dg(1), db(1);
    auto b = fast ? fast_backward_train<double> : batch_norm_backward_train_ref<double>;
    b(2, 1, 1, dy.data(), x.data(), gamma.data(), mean.data(), invstd.data(), dx.data(),
      dg.data(), db.data(), ChannelLayout::nchw);
    CHECK(db[0] == Approx(1));
    CHECK(dg[0] == Approx(-is).epsilon(1e-14));
    CHECK(dx[0] == Approx(2 * is / 2 * (2 - 1 - is * is)).epsilon(1e-9));
    CHECK(dx[1] == Approx(2 * is / 2 * (0 - 1 + is * is)).epsilon(1e-9));
  }
}

TEMPLATE_TEST_CASE("batch_norm: fast matches reference", "[batch_norm]", float, double) {
  using T = TestType;
  struct S { int64_t N, C, HW; };
  const std::vector<S> shapes{{1, 3, 5},  {2, 1, 1},  {7, 5, 13},  {4, 70, 1},
                              {3, 130, 1}, {256, 96, 1}, {16, 64, 32 * 32}, {8, 2, 7 * 7},
                              {3, 32, 7 * 7}};
  for (const S& s : shapes)
    for (bool affine : {true, false})
      for (ChannelLayout layout : {ChannelLayout::nchw, ChannelLayout::nChw16c}) {
        if (layout == ChannelLayout::nChw16c && s.C % kChannelBlock != 0) continue;
        INFO("N " << s.N << " C " << s.C << " HW " << s.HW << " affine " << affine << " nChw16c "
                  << (layout == ChannelLayout::nChw16c));
        const size_t n = size_t(s.N * s.C * s.HW);
        const auto x = randv<T>(n, 1, -2, 3), dy = randv<T>(n, 2);
        const auto gamma = randv<T>(s.C, 3, 0.5, 1.5), beta = randv<T>(s.C, 4);
        const T* g = affine ? gamma.data() : nullptr;
        const T* b = affine ? beta.data() : nullptr;
        const T eps = T(1e-5), m = T(0.1);
        std::vector<std::vector<T>> out[2];  // [ref, fast]
        for (int v = 0; v < 2; ++v) {
          Guarded<T> y(n), mean(s.C), invstd(s.C), dx(n), dg(s.C), db(s.C);
          auto rm = randv<T>(s.C, 5), rv = randv<T>(s.C, 6, 0.5, 2);
          (v ? fast_forward_train<T> : batch_norm_forward_train_ref<T>)(
              s.N, s.C, s.HW, x.data(), g, b, eps, m, y.data(), mean.data(), invstd.data(),
              rm.data(), rv.data(), layout);
          (v ? fast_backward_train<T> : batch_norm_backward_train_ref<T>)(
              s.N, s.C, s.HW, dy.data(), x.data(), g, mean.data(), invstd.data(), dx.data(),
              affine ? dg.data() : nullptr, affine ? db.data() : nullptr, layout);
          // Eval mode with the updated running stats.
          Guarded<T> ye(n), dxe(n), dge(s.C), dbe(s.C);
          (v ? batch_norm_forward_eval<T> : batch_norm_forward_eval_ref<T>)(
              s.N, s.C, s.HW, x.data(), g, b, rm.data(), rv.data(), eps, ye.data(), layout);
          (v ? batch_norm_backward_eval<T> : batch_norm_backward_eval_ref<T>)(
              s.N, s.C, s.HW, dy.data(), x.data(), g, rm.data(), rv.data(), eps, dxe.data(),
              dge.data(), dbe.data(), layout);
          out[v] = {y.values(),  mean.values(), invstd.values(), rm,           rv,
                    dx.values(), dg.values(),   db.values(),     ye.values(),  dxe.values(),
                    dge.values(), dbe.values()};
        }
        const char* names[] = {"y",  "mean",   "invstd", "running_mean", "running_var", "dx",
                               "dgamma", "dbeta", "eval y", "eval dx", "eval dgamma", "eval dbeta"};
        // dx sums three terms of size |γ| invstd |dy| that cancel (to ∝ 1 − x̂² when M = 2):
        // its absolute error scales with them, not with dx.
        double term = 0;
        for (int64_t c = 0; c < s.C; ++c)
          term = std::max(term, (affine ? std::fabs(double(gamma[c])) : 1.0) * double(out[0][2][c]));
        for (size_t k = 0; k < out[0].size(); ++k)
          check_close(out[1][k], out[0][k], kTol<T> * (k == 5 ? std::max(1.0, term) : 1.0), kTol<T>,
                      names[k]);
      }
}

TEST_CASE("batch_norm: fused ReLU variant and in-place backward", "[batch_norm]") {
  const int64_t N = 6, C = 70, HW = 1;  // also run with HW > 1 below
  for (int64_t hw : {HW, int64_t(9)}) {
    const size_t n = size_t(N * C * hw);
    const auto x = randv<double>(n, 7), dy = randv<double>(n, 8);
    const auto gamma = randv<double>(C, 9), beta = randv<double>(C, 10);
    std::vector<double> y(n), mean(C), invstd(C), yr(n), m2(C), i2(C);
    batch_norm_forward_train_ref<double>(N, C, hw, x.data(), gamma.data(), beta.data(), 1e-5,
                                         0.1, y.data(), mean.data(), invstd.data(), nullptr, nullptr);
    batch_norm_relu_forward_train<double>(N, C, hw, x.data(), gamma.data(), beta.data(), 1e-5,
                                          0.1, yr.data(), m2.data(), i2.data(), nullptr, nullptr);
    std::vector<double> relu_ref(n), dy_masked(n);
    for (size_t i = 0; i < n; ++i) {
      relu_ref[i] = std::max(y[i], 0.0);
      dy_masked[i] = y[i] > 0 ? dy[i] : 0;
    }
    check_close(yr, relu_ref, 1e-12, 1e-12, "relu y");
    std::vector<double> dx(n), dg(C), db(C), dx2 = dy, dg2(C), db2(C);
    batch_norm_backward_train_ref<double>(N, C, hw, dy_masked.data(), x.data(), gamma.data(),
                                          mean.data(), invstd.data(), dx.data(), dg.data(), db.data());
    // In place: dx aliases dy.
    batch_norm_relu_backward_train<double>(N, C, hw, dx2.data(), x.data(), yr.data(), gamma.data(),
                                           m2.data(), i2.data(), dx2.data(), dg2.data(), db2.data());
    check_close(dx2, dx, 1e-11, 1e-10, "relu dx");
    check_close(dg2, dg, 1e-11, 1e-10, "relu dgamma");
    check_close(db2, db, 1e-11, 1e-10, "relu dbeta");
  }
}

// The float training kernels' optional bf16 output: each value the bf16 rounding of the float32
// one written beside it, in every layout, in place too; the float32 output as without it, up to
// the compiler contracting the two loops' arithmetic differently (an ulp).
TEST_CASE("batch_norm and add_relu: the bf16 outputs are the roundings of the float32 ones", "[batch_norm][bf16]") {
  const int64_t N = 4, C = 32;
  for (const int64_t hw : {int64_t(1), int64_t(9)})
    for (const ChannelLayout layout : {ChannelLayout::nchw, ChannelLayout::nChw16c})
      for (const bool relu : {false, true}) {
        INFO("HW " << hw << " nChw16c " << (layout == ChannelLayout::nChw16c) << " relu " << relu);
        const size_t n = size_t(N * C * hw);
        const auto x = randv<float>(n, 11), dy = randv<float>(n, 12), gamma = randv<float>(C, 13),
                   beta = randv<float>(C, 14);
        std::vector<float> y(n), y_plain(n), mean(C), invstd(C), dx = dy, dx_plain(n), dg(C), db(C);
        std::vector<uint16_t> yb(n, 0xdead), dxb(n, 0xdead);
        auto forward = relu ? batch_norm_relu_forward_train<float> : batch_norm_forward_train<float>;
        forward(N, C, hw, x.data(), gamma.data(), beta.data(), 1e-5f, 0.1f, y.data(), mean.data(), invstd.data(),
                nullptr, nullptr, layout, yb.data());
        forward(N, C, hw, x.data(), gamma.data(), beta.data(), 1e-5f, 0.1f, y_plain.data(), mean.data(),
                invstd.data(), nullptr, nullptr, layout, nullptr);
        check_close(y, y_plain, 1e-6, 1e-6, "y");
        size_t wrong = 0;
        for (size_t i = 0; i < n; ++i) wrong += yb[i] != to_bf16(y[i]);
        CHECK(wrong == 0);
        if (relu) {
          batch_norm_relu_backward_train<float>(N, C, hw, dy.data(), x.data(), y.data(), gamma.data(), mean.data(),
                                                invstd.data(), dx_plain.data(), dg.data(), db.data(), layout);
          batch_norm_relu_backward_train<float>(N, C, hw, dx.data(), x.data(), y.data(), gamma.data(), mean.data(),
                                                invstd.data(), dx.data(), dg.data(), db.data(), layout, dxb.data());
        } else {
          batch_norm_backward_train<float>(N, C, hw, dy.data(), x.data(), gamma.data(), mean.data(), invstd.data(),
                                           dx_plain.data(), dg.data(), db.data(), layout);
          batch_norm_backward_train<float>(N, C, hw, dx.data(), x.data(), gamma.data(), mean.data(), invstd.data(),
                                           dx.data(), dg.data(), db.data(), layout, dxb.data());  // in place
        }
        check_close(dx, dx_plain, 1e-6, 1e-6, "dx");
        wrong = 0;
        for (size_t i = 0; i < n; ++i) wrong += dxb[i] != to_bf16(dx[i]);
        CHECK(wrong == 0);
      }
  const size_t n = 100000;  // past the size at which add_relu goes parallel
  const auto a = randv<float>(n, 15), b = randv<float>(n, 16);
  std::vector<float> y(n);
  std::vector<uint16_t> yb(n, 0xdead);
  add_relu<float>(int64_t(n), a.data(), b.data(), y.data(), yb.data());
  size_t wrong = 0;
  for (size_t i = 0; i < n; ++i) wrong += y[i] != std::max(a[i] + b[i], 0.0f) || yb[i] != to_bf16(y[i]);
  CHECK(wrong == 0);
}

TEST_CASE("batch_norm: backward matches finite differences", "[batch_norm][fd]") {
  struct S { int64_t N, C, HW; };
  for (const S s : {S{3, 2, 5}, S{5, 3, 1}, S{1, 2, 4}})
    for (bool fast : {false, true}) {
      INFO("N " << s.N << " C " << s.C << " HW " << s.HW << " fast " << fast);
      const size_t n = size_t(s.N * s.C * s.HW);
      const auto x = randv<double>(n, 11, -1, 2), w = randv<double>(n, 12);
      const auto gamma = randv<double>(s.C, 13, 0.5, 1.5), beta = randv<double>(s.C, 14);
      auto fwd = fast ? fast_forward_train<double> : batch_norm_forward_train_ref<double>;
      auto train = [&](const std::vector<double>& xx, const std::vector<double>& gg,
                       const std::vector<double>& bb) {
        std::vector<double> y(n), mean(s.C), invstd(s.C);
        fwd(s.N, s.C, s.HW, xx.data(), gg.data(), bb.data(), 1e-5, 0.1, y.data(), mean.data(),
            invstd.data(), nullptr, nullptr, ChannelLayout::nchw);
        return y;
      };
      std::vector<double> y(n), mean(s.C), invstd(s.C), dx(n), dg(s.C), db(s.C);
      fwd(s.N, s.C, s.HW, x.data(), gamma.data(), beta.data(), 1e-5, 0.1, y.data(), mean.data(),
          invstd.data(), nullptr, nullptr, ChannelLayout::nchw);
      (fast ? fast_backward_train<double> : batch_norm_backward_train_ref<double>)(
          s.N, s.C, s.HW, w.data(), x.data(), gamma.data(), mean.data(), invstd.data(),
          dx.data(), dg.data(), db.data(), ChannelLayout::nchw);
      check_fd([&](const auto& v) { return train(v, gamma, beta); }, x, w, dx, "train dx");
      check_fd([&](const auto& v) { return train(x, v, beta); }, gamma, w, dg, "train dgamma");
      check_fd([&](const auto& v) { return train(x, gamma, v); }, beta, w, db, "train dbeta");

      const auto rm = randv<double>(s.C, 15), rv = randv<double>(s.C, 16, 0.5, 2);
      auto eval = [&](const std::vector<double>& xx, const std::vector<double>& gg) {
        std::vector<double> ye(n);
        (fast ? batch_norm_forward_eval<double> : batch_norm_forward_eval_ref<double>)(
            s.N, s.C, s.HW, xx.data(), gg.data(), beta.data(), rm.data(), rv.data(), 1e-5, ye.data(), ChannelLayout::nchw);
        return ye;
      };
      (fast ? batch_norm_backward_eval<double> : batch_norm_backward_eval_ref<double>)(
          s.N, s.C, s.HW, w.data(), x.data(), gamma.data(), rm.data(), rv.data(), 1e-5,
          dx.data(), dg.data(), db.data(), ChannelLayout::nchw);
      check_fd([&](const auto& v) { return eval(v, gamma); }, x, w, dx, "eval dx");
      check_fd([&](const auto& v) { return eval(x, v); }, gamma, w, dg, "eval dgamma");
    }
}

// ----------------------------------------------------------------------------------------------
// pool

TEST_CASE("max_pool2d: hand-derived cases", "[pool]") {
  std::vector<double> x(16);
  for (int i = 0; i < 16; ++i) x[i] = i;  // 4×4 ramp: every window's max is its bottom-right
  for (bool fast : {false, true}) {
    auto f = fast ? max_pool2d_forward<double> : max_pool2d_forward_ref<double>;
    std::vector<double> y(4);
    std::vector<int32_t> idx(4);
    f(1, 1, 4, 4, PoolWindow{2, 2, 2, 2, 0, 0}, x.data(), y.data(), idx.data());
    CHECK(y == std::vector<double>{5, 7, 13, 15});
    CHECK(idx == std::vector<int32_t>{5, 7, 13, 15});
    // 3×3 stride 2 pad 1 (the ImageNet stem): windows rows/cols {−1..1} and {1..3}.
    f(1, 1, 4, 4, PoolWindow{3, 3, 2, 2, 1, 1}, x.data(), y.data(), idx.data());
    CHECK(y == std::vector<double>{5, 7, 13, 15});
    // Ties: the first maximum in window order wins; negative values beat the padding.
    std::vector<double> flat(16, -3.0);
    f(1, 1, 4, 4, PoolWindow{3, 3, 2, 2, 1, 1}, flat.data(), y.data(), idx.data());
    CHECK(y == std::vector<double>{-3, -3, -3, -3});
    CHECK(idx == std::vector<int32_t>{0, 1, 4, 5});
  }
  // Overlapping windows (k3 s1 p1 on 3×3) share the global max at the centre: all 9 windows
  // pick it, so its gradient is the sum of all dy.
  std::vector<double> c{0, 0, 0, 0, 1, 0, 0, 0, 0}, dy(9, 1.0), dx(9), y(9);
  std::vector<int32_t> idx(9);
  const PoolWindow w3{3, 3, 1, 1, 1, 1};
  max_pool2d_forward<double>(1, 1, 3, 3, w3, c.data(), y.data(), idx.data());
  max_pool2d_backward<double>(1, 1, 3, 3, w3, idx.data(), dy.data(), dx.data());
  CHECK(dx == std::vector<double>{0, 0, 0, 0, 9, 0, 0, 0, 0});
  max_pool2d_backward_ref<double>(1, 1, 3, 3, w3, c.data(), dy.data(), dx.data());
  CHECK(dx == std::vector<double>{0, 0, 0, 0, 9, 0, 0, 0, 0});
}

TEMPLATE_TEST_CASE("max_pool2d: fast matches reference", "[pool]", float, double) {
  using T = TestType;
  struct S { int64_t N, C, H, W; PoolWindow w; };
  const std::vector<S> shapes{{1, 1, 5, 5, {3, 3, 1, 1, 1, 1}},   {2, 3, 7, 9, {3, 3, 2, 2, 1, 1}},
                              {1, 2, 6, 5, {2, 3, 1, 2, 1, 1}},   {4, 16, 32, 32, {2, 2, 2, 2, 0, 0}},
                              {2, 64, 112, 112, {3, 3, 2, 2, 1, 1}}, {3, 2, 1, 1, {1, 1, 1, 1, 0, 0}}};
  for (const S& s : shapes) {
    INFO("N " << s.N << " C " << s.C << " H " << s.H << " W " << s.W);
    const int64_t OH = s.w.out_h(s.H), OW = s.w.out_w(s.W);
    const size_t nx = size_t(s.N * s.C * s.H * s.W), ny = size_t(s.N * s.C * OH * OW);
    const auto x = randv<T>(nx, 21), dy = randv<T>(ny, 22);
    Guarded<T> y0(ny), y1(ny), dx0(nx), dx1(nx);
    Guarded<int32_t> i0(ny), i1(ny);
    max_pool2d_forward_ref<T>(s.N, s.C, s.H, s.W, s.w, x.data(), y0.data(), i0.data());
    max_pool2d_forward<T>(s.N, s.C, s.H, s.W, s.w, x.data(), y1.data(), i1.data());
    CHECK(y1.values() == y0.values());
    CHECK(i1.values() == i0.values());
    max_pool2d_backward_ref<T>(s.N, s.C, s.H, s.W, s.w, x.data(), dy.data(), dx0.data());
    max_pool2d_backward<T>(s.N, s.C, s.H, s.W, s.w, i1.data(), dy.data(), dx1.data());
    check_close(dx1.values(), dx0.values(), 1e-6, 1e-6, "maxpool dx");
  }
}

TEST_CASE("max_pool2d and global_avg_pool: backward matches finite differences", "[pool][fd]") {
  // Random values are distinct, so h = 1e-6 never flips an argmax (the non-smooth points).
  const int64_t N = 2, C = 2, H = 5, W = 6;
  const PoolWindow win{3, 2, 2, 1, 1, 1};
  const int64_t OH = win.out_h(H), OW = win.out_w(W);
  const auto x = randv<double>(N * C * H * W, 31), w = randv<double>(N * C * OH * OW, 32);
  auto pool = [&](const std::vector<double>& v) {
    std::vector<double> y(w.size());
    max_pool2d_forward<double>(N, C, H, W, win, v.data(), y.data(), nullptr);
    return y;
  };
  std::vector<double> dx(x.size()), dx_ref(x.size()), y(w.size());
  std::vector<int32_t> idx(w.size());
  max_pool2d_forward<double>(N, C, H, W, win, x.data(), y.data(), idx.data());
  max_pool2d_backward<double>(N, C, H, W, win, idx.data(), w.data(), dx.data());
  max_pool2d_backward_ref<double>(N, C, H, W, win, x.data(), w.data(), dx_ref.data());
  check_fd(pool, x, w, dx, "maxpool dx");
  check_fd(pool, x, w, dx_ref, "maxpool dx ref");

  const auto wg = randv<double>(N * C, 33);
  for (bool fast : {false, true}) {
    auto gap = [&](const std::vector<double>& v) {
      std::vector<double> o(N * C);
      (fast ? global_avg_pool_forward<double> : global_avg_pool_forward_ref<double>)(
          N, C, H * W, v.data(), o.data(), ChannelLayout::nchw);
      return o;
    };
    std::vector<double> g(x.size());
    (fast ? global_avg_pool_backward<double> : global_avg_pool_backward_ref<double>)(
        N, C, H * W, wg.data(), g.data(), ChannelLayout::nchw);
    check_fd(gap, x, wg, g, "gap dx");
  }
}

TEMPLATE_TEST_CASE("global_avg_pool: hand case and fast matches reference", "[pool]", float, double) {
  using T = TestType;
  std::vector<T> x{1, 2, 3, 4, 10, 20, 30, 40}, y(2);
  global_avg_pool_forward<T>(1, 2, 4, x.data(), y.data());
  CHECK(y == std::vector<T>{T(2.5), T(25)});
  struct S { int64_t N, C, HW; };
  for (const S s : {S{1, 1, 1}, S{3, 5, 7}, S{256, 512, 16}, S{8, 64, 32 * 32}}) {
    const size_t nx = size_t(s.N * s.C * s.HW), ny = size_t(s.N * s.C);
    const auto xs = randv<T>(nx, 41), dy = randv<T>(ny, 42);
    Guarded<T> y0(ny), y1(ny), d0(nx), d1(nx);
    global_avg_pool_forward_ref<T>(s.N, s.C, s.HW, xs.data(), y0.data());
    global_avg_pool_forward<T>(s.N, s.C, s.HW, xs.data(), y1.data());
    global_avg_pool_backward_ref<T>(s.N, s.C, s.HW, dy.data(), d0.data());
    global_avg_pool_backward<T>(s.N, s.C, s.HW, dy.data(), d1.data());
    check_close(y1.values(), y0.values(), kTol<T>, kTol<T>, "gap y");
    check_close(d1.values(), d0.values(), kTol<T>, kTol<T>, "gap dx");
  }
}

// ----------------------------------------------------------------------------------------------
// softmax

TEST_CASE("log_softmax and cross_entropy: hand-derived cases", "[softmax]") {
  for (bool fast : {false, true}) {
    std::vector<double> x(5, 0.37), y(5);
    (fast ? log_softmax_forward<double> : log_softmax_forward_ref<double>)(1, 5, x.data(), y.data());
    for (double v : y) CHECK(v == Approx(-std::log(5.0)).epsilon(1e-14));
    // Large logits must not overflow: log_softmax([1000, 1001]) = [−log(1+e), 1 − log(1+e)].
    std::vector<double> big{1000, 1001}, yb(2);
    (fast ? log_softmax_forward<double> : log_softmax_forward_ref<double>)(1, 2, big.data(), yb.data());
    CHECK(yb[0] == Approx(-std::log1p(std::exp(1.0))).epsilon(1e-12));
    CHECK(yb[1] == Approx(1 - std::log1p(std::exp(1.0))).epsilon(1e-12));
    // Equal logits: cross-entropy log(n) for any label; gradient g/rows (1/n − onehot).
    const std::vector<int32_t> labels{2, 0};
    std::vector<double> x2(2 * 4, -1.5), d(8);
    auto ce = fast ? cross_entropy_forward<double> : cross_entropy_forward_ref<double>;
    CHECK(ce(2, 4, x2.data(), labels.data()) == Approx(std::log(4.0)).epsilon(1e-14));
    (fast ? cross_entropy_backward<double> : cross_entropy_backward_ref<double>)(
        2, 4, x2.data(), labels.data(), 3.0, d.data());
    const double q = 3.0 / 2 * 0.25, p = 3.0 / 2 * (0.25 - 1);
    CHECK(d == std::vector<double>{q, q, p, q, p, q, q, q});
  }
}

TEMPLATE_TEST_CASE("softmax: fast matches reference", "[softmax]", float, double) {
  using T = TestType;
  struct S { int64_t rows, cols; };
  for (const S s : {S{1, 1}, S{1, 7}, S{5, 3}, S{256, 10}, S{512, 1000}, S{33, 4097}}) {
    INFO("rows " << s.rows << " cols " << s.cols);
    const size_t n = size_t(s.rows * s.cols);
    const auto x = randv<T>(n, 51, -8, 8), dy = randv<T>(n, 52);
    std::vector<int32_t> labels(s.rows);
    for (int64_t r = 0; r < s.rows; ++r) labels[r] = int32_t((r * 7919) % s.cols);
    Guarded<T> y0(n), y1(n), dx0(n), dx1(n), dl0(n), dl1(n);
    log_softmax_forward_ref<T>(s.rows, s.cols, x.data(), y0.data());
    log_softmax_forward<T>(s.rows, s.cols, x.data(), y1.data());
    log_softmax_backward_ref<T>(s.rows, s.cols, y0.data(), dy.data(), dx0.data());
    log_softmax_backward<T>(s.rows, s.cols, y1.data(), dy.data(), dx1.data());
    check_close(y1.values(), y0.values(), kTol<T> * 10, kTol<T>, "log_softmax y");
    check_close(dx1.values(), dx0.values(), kTol<T> * 10, kTol<T> * 10, "log_softmax dx");
    const T l0 = cross_entropy_forward_ref<T>(s.rows, s.cols, x.data(), labels.data());
    const T l1 = cross_entropy_forward<T>(s.rows, s.cols, x.data(), labels.data());
    CHECK(std::fabs(double(l1) - double(l0)) <= kTol<T> * (1 + std::fabs(double(l0))));
    cross_entropy_backward_ref<T>(s.rows, s.cols, x.data(), labels.data(), T(0.7), dl0.data());
    cross_entropy_backward<T>(s.rows, s.cols, x.data(), labels.data(), T(0.7), dl1.data());
    check_close(dl1.values(), dl0.values(), kTol<T>, kTol<T> * 10, "cross_entropy dlogits");
  }
}

TEST_CASE("softmax: backward matches finite differences", "[softmax][fd]") {
  const int64_t rows = 3, cols = 5;
  const auto x = randv<double>(rows * cols, 61, -3, 3), w = randv<double>(rows * cols, 62);
  const std::vector<int32_t> labels{4, 0, 2};
  for (bool fast : {false, true}) {
    auto fwd = fast ? log_softmax_forward<double> : log_softmax_forward_ref<double>;
    auto lsm = [&](const std::vector<double>& v) {
      std::vector<double> y(v.size());
      fwd(rows, cols, v.data(), y.data());
      return y;
    };
    const auto y = lsm(x);
    std::vector<double> dx(x.size()), dl(x.size());
    (fast ? log_softmax_backward<double> : log_softmax_backward_ref<double>)(rows, cols, y.data(),
                                                                          w.data(), dx.data());
    check_fd(lsm, x, w, dx, "log_softmax dx");
    auto ce = fast ? cross_entropy_forward<double> : cross_entropy_forward_ref<double>;
    (fast ? cross_entropy_backward<double> : cross_entropy_backward_ref<double>)(
        rows, cols, x.data(), labels.data(), 0.7, dl.data());
    check_fd([&](const auto& v) { return std::vector<double>{ce(rows, cols, v.data(), labels.data())}; },
             x, {0.7}, dl, "cross_entropy dlogits");
  }
}

// ----------------------------------------------------------------------------------------------
// reduce

TEMPLATE_TEST_CASE("reduce: hand case and fast matches reference", "[reduce]", float, double) {
  using T = TestType;
  // (outer 2, axis 3, inner 2): sums over the middle axis.
  std::vector<T> x{1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60}, y(4), back(12);
  sum_axis<T>(2, 3, 2, x.data(), y.data());
  CHECK(y == std::vector<T>{9, 12, 90, 120});
  sum_axis_backward<T>(2, 3, 2, y.data(), back.data());
  CHECK(back == std::vector<T>{9, 12, 9, 12, 9, 12, 90, 120, 90, 120, 90, 120});
  CHECK(sum_all<T>(12, x.data()) == T(231));

  struct S { int64_t outer, axis, inner; };
  for (const S s : {S{1, 1, 1}, S{1, 256, 2048}, S{256, 2048, 1}, S{3, 7, 300}, S{1, 100000, 1},
                    S{64, 1, 5}, S{5, 3, 1}, S{2, 513, 257}}) {
    INFO("outer " << s.outer << " axis " << s.axis << " inner " << s.inner);
    const size_t n = size_t(s.outer * s.axis * s.inner), m = size_t(s.outer * s.inner);
    const auto xs = randv<T>(n, 71), dy = randv<T>(m, 72);
    Guarded<T> y0(m), y1(m), d0(n), d1(n);
    sum_axis_ref<T>(s.outer, s.axis, s.inner, xs.data(), y0.data());
    sum_axis<T>(s.outer, s.axis, s.inner, xs.data(), y1.data());
    sum_axis_backward_ref<T>(s.outer, s.axis, s.inner, dy.data(), d0.data());
    sum_axis_backward<T>(s.outer, s.axis, s.inner, dy.data(), d1.data());
    check_close(y1.values(), y0.values(), kTol<T> * std::sqrt(double(s.axis)), kTol<T>, "sum_axis");
    CHECK(d1.values() == d0.values());
    const double a0 = sum_all_ref<T>(n, xs.data()), a1 = sum_all<T>(n, xs.data());
    CHECK(std::fabs(a1 - a0) <= kTol<T> * std::sqrt(double(n)) * (1 + std::fabs(a0)));
  }
  // The backward of sum_axis, checked by finite differences of sum_axis.
  if constexpr (std::is_same_v<T, double>) {
    const auto xs = randv<double>(2 * 3 * 4, 73), w = randv<double>(2 * 4, 74);
    std::vector<double> dx(xs.size());
    sum_axis_backward<double>(2, 3, 4, w.data(), dx.data());
    check_fd([](const auto& v) {
      std::vector<double> o(8);
      sum_axis<double>(2, 3, 4, v.data(), o.data());
      return o;
    }, xs, w, dx, "sum_axis dx");
  }
}

// ----------------------------------------------------------------------------------------------
// normalize

TEST_CASE("l2_normalize: hand-derived cases", "[normalize]") {
  for (bool fast : {false, true}) {
    auto f = fast ? l2_normalize_forward<double> : l2_normalize_forward_ref<double>;
    auto b = fast ? l2_normalize_backward<double> : l2_normalize_backward_ref<double>;
    std::vector<double> x{3, 4, 0, 0}, y(4), dy{1, 1, 2, -1}, dx(4);
    f(2, 2, x.data(), 1e-12, y.data());
    CHECK(y[0] == Approx(0.6));
    CHECK(y[1] == Approx(0.8));
    CHECK(y[2] == 0);  // the zero row stays zero (divided by eps)
    CHECK(y[3] == 0);
    // Row 0: (dy − y (y·dy)) / 5 with y·dy = 1.4. Row 1 (norm 0 <= eps): dx = dy / eps.
    b(2, 2, x.data(), dy.data(), 1e-12, dx.data());
    CHECK(dx[0] == Approx((1 - 0.6 * 1.4) / 5));
    CHECK(dx[1] == Approx((1 - 0.8 * 1.4) / 5));
    CHECK(dx[2] == Approx(2e12));
    CHECK(dx[3] == Approx(-1e12));
  }
}

TEMPLATE_TEST_CASE("l2_normalize: fast matches reference", "[normalize]", float, double) {
  using T = TestType;
  struct S { int64_t N, D; };
  for (const S s : {S{1, 1}, S{1, 128}, S{7, 3}, S{512, 128}, S{256, 2048}}) {
    const size_t n = size_t(s.N * s.D);
    const auto x = randv<T>(n, 81), dy = randv<T>(n, 82);
    Guarded<T> y0(n), y1(n), d0(n), d1(n);
    l2_normalize_forward_ref<T>(s.N, s.D, x.data(), T(1e-12), y0.data());
    l2_normalize_forward<T>(s.N, s.D, x.data(), T(1e-12), y1.data());
    l2_normalize_backward_ref<T>(s.N, s.D, x.data(), dy.data(), T(1e-12), d0.data());
    l2_normalize_backward<T>(s.N, s.D, x.data(), dy.data(), T(1e-12), d1.data());
    check_close(y1.values(), y0.values(), kTol<T>, kTol<T>, "normalize y");
    check_close(d1.values(), d0.values(), kTol<T> * 10, kTol<T> * 10, "normalize dx");
  }
}

TEST_CASE("l2_normalize: backward matches finite differences", "[normalize][fd]") {
  const int64_t N = 4, D = 5;
  const auto x = randv<double>(N * D, 91), w = randv<double>(N * D, 92);
  for (bool fast : {false, true}) {
    auto f = fast ? l2_normalize_forward<double> : l2_normalize_forward_ref<double>;
    std::vector<double> dx(x.size());
    (fast ? l2_normalize_backward<double> : l2_normalize_backward_ref<double>)(
        N, D, x.data(), w.data(), 1e-12, dx.data());
    check_fd([&](const auto& v) {
      std::vector<double> y(v.size());
      f(N, D, v.data(), 1e-12, y.data());
      return y;
    }, x, w, dx, "normalize dx");
  }
}
