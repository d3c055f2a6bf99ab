// The nn kernels of kernels/cuda (batch_norm, pool, normalize, optim) run by the SIMT emulator
// against the CPU references (kernels/cpu `*_ref` in double; the optimizer updates against the
// CPU kernels, which are their own references), under three schedules (forward, random:1,
// reverse), with ragged shapes. Every output carries a sentinel guard zone that must survive.
// Tolerance: |got − ref| <= atol + rtol·|ref|; a NaN reference requires a NaN.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cpu/batch_norm.h"
#include "kernels/cpu/normalize.h"
#include "kernels/cpu/optim_kernels.h"
#include "kernels/cpu/pool.h"
#include "kernels/cuda/batch_norm.h"
#include "kernels/cuda/normalize.h"
#include "kernels/cuda/optim.h"
#include "kernels/cuda/pool.h"
#include "kernels/simt/simt.h"
#include "tests/support/guarded_output.h"
#include "tests/support/random_vector.h"

using bt::cuda::Simt;

// These tests run the kernels over std::vector buffers (host memory): the engine and the
// kernel-case registry pass emulated device memory, whose checks tests/test_simt_memory.cpp covers.
static const simt::testing::AllowHostPointers kAllowHostPointers;

namespace {

const char* const kSchedules[] = {"forward", "random:1", "reverse"};
template <class T = float>
using Out = bt::testing::GuardedOutput<T>;

// randv (tests/support/random_vector.h) with this file's default range.
std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
  return bt::testing::randv<float>(n, seed, lo, hi);
}

std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

template <class T>
void check_close(const std::string& what, const Out<T>& got, const std::vector<double>& ref,
                 double atol, double rtol) {
  REQUIRE(got.n == ref.size());
  size_t bad = 0;
  std::ostringstream first;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double g = double(got.v[i]);
    const bool ok = std::isnan(ref[i])    ? std::isnan(g)
                    : std::isinf(ref[i]) ? g == ref[i]
                                          : std::abs(g - ref[i]) <= atol + rtol * std::abs(ref[i]);
    if (!ok) {
      if (bad < 5) first << "  [" << i << "] got " << g << " want " << ref[i] << "\n";
      ++bad;
    }
  }
  INFO(what << ": " << bad << " of " << ref.size() << " mismatches\n" << first.str());
  CHECK(bad == 0);
  INFO(what << ": guard zone overwritten");
  CHECK(got.guard_intact());
}

template <class T>
std::vector<double> as_ref(const std::vector<T>& v) {
  return {v.begin(), v.end()};
}

struct BnShape {
  int64_t N, C, HW;
};
// Ragged; HW = 1 is BatchNorm1d; M = 2·300 > 256 threads takes a second lap; C = 70 channels.
const BnShape kBnShapes[] = {{3, 5, 7}, {4, 3, 1}, {2, 2, 300}, {5, 70, 1}, {2, 4, 33}};

std::string bn_tag(const char* sched, const BnShape& s, bool affine) {
  std::ostringstream os;
  os << sched << " N=" << s.N << " C=" << s.C << " HW=" << s.HW << (affine ? " affine" : "");
  return os.str();
}

}  // namespace

TEST_CASE("cuda nn kernels (simt): batch_norm training forward, with and without ReLU",
          "[cuda][simt]") {
  for (const BnShape& s : kBnShapes) {
    const size_t n = size_t(s.N * s.C * s.HW), C = size_t(s.C);
    auto x = random_vec(n, 1, -1.0f, 3.0f);  // a non-zero mean
    const auto gamma = random_vec(C, 2, 0.5f, 1.5f), beta = random_vec(C, 3);
    const auto rm0 = random_vec(C, 4), rv0 = random_vec(C, 5, 0.5f, 2.0f);
    for (bool affine : {true, false}) {
      // The reference in double.
      std::vector<double> xd = to_double(x), gd = to_double(gamma), bd = to_double(beta);
      std::vector<double> y_ref(n), mean_ref(C), invstd_ref(C), rm_ref = to_double(rm0),
                                                                rv_ref = to_double(rv0);
      bt::cpu::batch_norm_forward_train_ref<double>(
          s.N, s.C, s.HW, xd.data(), affine ? gd.data() : nullptr, affine ? bd.data() : nullptr,
          1e-5, 0.1, y_ref.data(), mean_ref.data(), invstd_ref.data(), rm_ref.data(),
          rv_ref.data());
      std::vector<double> yrelu_ref(y_ref);
      for (double& v : yrelu_ref) v = v > 0 ? v : 0.0;
      for (bool relu : {false, true})
        for (const char* sched : kSchedules) {
          simt::ScopedSchedule scope(sched);
          const std::string tag = bn_tag(sched, s, affine) + (relu ? " relu" : "");
          Out<float> y(n, NAN), mean(C, NAN), invstd(C, NAN), rm(rm0), rv(rv0);
          auto fn = relu ? bt::cuda::batch_norm_relu_forward_train<Simt>
                         : bt::cuda::batch_norm_forward_train<Simt>;
          fn(s.N, s.C, s.HW, x.data(), affine ? gamma.data() : nullptr,
             affine ? beta.data() : nullptr, 1e-5f, 0.1f, y.data(), mean.data(), invstd.data(),
             rm.data(), rv.data(), nullptr);
          check_close("y " + tag, y, relu ? yrelu_ref : y_ref, 1e-5, 1e-4);
          check_close("save_mean " + tag, mean, mean_ref, 1e-5, 1e-5);
          check_close("save_invstd " + tag, invstd, invstd_ref, 1e-5, 1e-4);
          check_close("running_mean " + tag, rm, rm_ref, 1e-5, 1e-5);
          check_close("running_var " + tag, rv, rv_ref, 1e-5, 1e-4);
        }
    }
  }
}

TEST_CASE("cuda nn kernels (simt): batch_norm training backward, with and without ReLU",
          "[cuda][simt]") {
  for (const BnShape& s : kBnShapes) {
    const size_t n = size_t(s.N * s.C * s.HW), C = size_t(s.C);
    const auto x = random_vec(n, 11, -1.0f, 3.0f), dy = random_vec(n, 12);
    const auto gamma = random_vec(C, 13, 0.5f, 1.5f), beta = random_vec(C, 14);
    // The saved statistics and the ReLU output come from the float forward; both sides use them.
    std::vector<float> y(n), mean(C), invstd(C);
    bt::cpu::batch_norm_relu_forward_train<float>(s.N, s.C, s.HW, x.data(), gamma.data(),
                                                  beta.data(), 1e-5f, 0.1f, y.data(), mean.data(),
                                                  invstd.data(), nullptr, nullptr);
    for (bool affine : {true, false})
      for (bool relu : {false, true}) {
        std::vector<double> dyd = to_double(dy);
        if (relu)
          for (size_t i = 0; i < n; ++i) dyd[i] = y[i] > 0 ? dyd[i] : 0.0;
        std::vector<double> xd = to_double(x), gd = to_double(gamma), md = to_double(mean),
                            sd = to_double(invstd);
        std::vector<double> dx_ref(n), dg_ref(C), db_ref(C);
        bt::cpu::batch_norm_backward_train_ref<double>(
            s.N, s.C, s.HW, dyd.data(), xd.data(), affine ? gd.data() : nullptr, md.data(),
            sd.data(), dx_ref.data(), dg_ref.data(), db_ref.data());
        for (const char* sched : kSchedules) {
          simt::ScopedSchedule scope(sched);
          const std::string tag = bn_tag(sched, s, affine) + (relu ? " relu" : "");
          const float* g = affine ? gamma.data() : nullptr;
          Out<float> dx(n, NAN), dg(C, NAN), db(C, NAN);
          if (relu)
            bt::cuda::batch_norm_relu_backward_train<Simt>(s.N, s.C, s.HW, dy.data(), x.data(),
                                                           y.data(), g, mean.data(), invstd.data(),
                                                           dx.data(), dg.data(), db.data(), nullptr);
          else
            bt::cuda::batch_norm_backward_train<Simt>(s.N, s.C, s.HW, dy.data(), x.data(), g,
                                                      mean.data(), invstd.data(), dx.data(),
                                                      dg.data(), db.data(), nullptr);
          // dx cancels three terms of size ~M·|dy|: its error scales with M.
          check_close("dx " + tag, dx, dx_ref, 2e-6 * double(s.N * s.HW), 1e-4);
          check_close("dgamma " + tag, dg, dg_ref, 1e-5 * double(s.N * s.HW), 1e-4);
          check_close("dbeta " + tag, db, db_ref, 1e-5 * double(s.N * s.HW), 1e-4);
          // In place (dx == dy), no dgamma/dbeta.
          Out<float> inplace(dy);
          if (relu)
            bt::cuda::batch_norm_relu_backward_train<Simt>(
                s.N, s.C, s.HW, inplace.data(), x.data(), y.data(), g, mean.data(), invstd.data(),
                inplace.data(), nullptr, nullptr, nullptr);
          else
            bt::cuda::batch_norm_backward_train<Simt>(s.N, s.C, s.HW, inplace.data(), x.data(), g,
                                                      mean.data(), invstd.data(), inplace.data(),
                                                      nullptr, nullptr, nullptr);
          check_close("dx in place " + tag, inplace, dx_ref, 2e-6 * double(s.N * s.HW), 1e-4);
        }
      }
  }
}

TEST_CASE("cuda nn kernels (simt): batch_norm eval forward and backward", "[cuda][simt]") {
  for (const BnShape& s : kBnShapes) {
    const size_t n = size_t(s.N * s.C * s.HW), C = size_t(s.C);
    const auto x = random_vec(n, 21), dy = random_vec(n, 22);
    const auto gamma = random_vec(C, 23, 0.5f, 1.5f), beta = random_vec(C, 24);
    const auto rm = random_vec(C, 25), rv = random_vec(C, 26, 0.5f, 2.0f);
    for (bool affine : {true, false}) {
      std::vector<double> xd = to_double(x), dyd = to_double(dy), gd = to_double(gamma),
                          bd = to_double(beta), rmd = to_double(rm), rvd = to_double(rv);
      const double* g = affine ? gd.data() : nullptr;
      std::vector<double> y_ref(n), dx_ref(n), dg_ref(C), db_ref(C);
      bt::cpu::batch_norm_forward_eval_ref<double>(s.N, s.C, s.HW, xd.data(), g,
                                                   affine ? bd.data() : nullptr, rmd.data(),
                                                   rvd.data(), 1e-5, y_ref.data());
      bt::cpu::batch_norm_backward_eval_ref<double>(s.N, s.C, s.HW, dyd.data(), xd.data(), g,
                                                    rmd.data(), rvd.data(), 1e-5, dx_ref.data(),
                                                    dg_ref.data(), db_ref.data());
      for (const char* sched : kSchedules) {
        simt::ScopedSchedule scope(sched);
        const std::string tag = bn_tag(sched, s, affine);
        const float* gf = affine ? gamma.data() : nullptr;
        Out<float> y(n, NAN), dx(n, NAN), dg(C, NAN), db(C, NAN);
        bt::cuda::batch_norm_forward_eval<Simt>(s.N, s.C, s.HW, x.data(), gf,
                                                affine ? beta.data() : nullptr, rm.data(),
                                                rv.data(), 1e-5f, y.data(), nullptr);
        bt::cuda::batch_norm_backward_eval<Simt>(s.N, s.C, s.HW, dy.data(), x.data(), gf,
                                                 rm.data(), rv.data(), 1e-5f, dx.data(), dg.data(),
                                                 db.data(), nullptr);
        check_close("eval y " + tag, y, y_ref, 1e-5, 1e-5);
        check_close("eval dx " + tag, dx, dx_ref, 1e-6, 1e-5);
        check_close("eval dgamma " + tag, dg, dg_ref, 1e-5 * double(s.N * s.HW), 1e-4);
        check_close("eval dbeta " + tag, db, db_ref, 1e-5 * double(s.N * s.HW), 1e-4);
        Out<float> inplace(dy);  // dx == dy
        bt::cuda::batch_norm_backward_eval<Simt>(s.N, s.C, s.HW, inplace.data(), x.data(), gf,
                                                 rm.data(), rv.data(), 1e-5f, inplace.data(),
                                                 nullptr, nullptr, nullptr);
        check_close("eval dx in place " + tag, inplace, dx_ref, 1e-6, 1e-5);
      }
    }
  }
}

TEST_CASE("cuda nn kernels (simt): max_pool2d forward (argmax, ties, NaN) and backward",
          "[cuda][simt]") {
  const int64_t N = 3, C = 5, H = 7, W = 9;
  const size_t n = size_t(N * C * H * W);
  // Values on a coarse grid, so windows hold ties; one NaN that must propagate.
  std::vector<float> x = random_vec(n, 31);
  for (float& v : x) v = std::round(v * 2.0f) / 2.0f;
  x[40] = NAN;
  const std::vector<double> xd = to_double(x);
  // Overlapping (k > s), ResNet's stem (3, 2, 1), disjoint, identity, rectangular padding.
  const bt::cpu::PoolWindow windows[] = {
      {3, 3, 2, 2, 1, 1}, {3, 3, 1, 1, 1, 1}, {2, 2, 2, 2, 0, 0}, {1, 1, 1, 1, 0, 0},
      {2, 3, 1, 2, 1, 1}};
  for (const auto& win : windows) {
    const int64_t OH = win.out_h(H), OW = win.out_w(W);
    const size_t m = size_t(N * C * OH * OW);
    const auto dy = random_vec(m, 32);
    std::vector<double> y_ref(m), dx_ref(n), dyd = to_double(dy);
    std::vector<int32_t> idx_ref(m);
    bt::cpu::max_pool2d_forward_ref<double>(N, C, H, W, win, xd.data(), y_ref.data(),
                                            idx_ref.data());
    bt::cpu::max_pool2d_backward_ref<double>(N, C, H, W, win, xd.data(), dyd.data(),
                                             dx_ref.data());
    for (const char* sched : kSchedules) {
      simt::ScopedSchedule scope(sched);
      std::ostringstream os;
      os << sched << " k=" << win.kh << "x" << win.kw << " s=" << win.sh << "," << win.sw
         << " p=" << win.ph << "," << win.pw;
      const std::string tag = os.str();
      Out<float> y(m, 0.0f), dx(n, NAN);
      Out<int32_t> idx(m, -7);
      bt::cuda::max_pool2d_forward<Simt>(N, C, H, W, win, x.data(), y.data(), idx.data(), nullptr);
      check_close("max_pool y " + tag, y, y_ref, 0.0, 0.0);
      check_close("max_pool indices " + tag, idx, as_ref(idx_ref), 0.0, 0.0);
      bt::cuda::max_pool2d_backward<Simt>(N, C, H, W, win, idx.data(), dy.data(), dx.data(),
                                          nullptr);
      check_close("max_pool dx " + tag, dx, dx_ref, 1e-6, 1e-6);
      Out<float> y2(m, 0.0f);  // indices are optional
      bt::cuda::max_pool2d_forward<Simt>(N, C, H, W, win, x.data(), y2.data(), nullptr, nullptr);
      check_close("max_pool y (no indices) " + tag, y2, y_ref, 0.0, 0.0);
    }
  }
}

TEST_CASE("cuda nn kernels (simt): global average pool forward and backward", "[cuda][simt]") {
  const BnShape shapes[] = {{3, 5, 7}, {2, 3, 1}, {2, 2, 300}, {4, 9, 64}};
  for (const BnShape& s : shapes) {
    const size_t rows = size_t(s.N * s.C), n = rows * size_t(s.HW);
    const auto x = random_vec(n, 41), dy = random_vec(rows, 42);
    std::vector<double> xd = to_double(x), dyd = to_double(dy), y_ref(rows), dx_ref(n);
    bt::cpu::global_avg_pool_forward_ref<double>(s.N, s.C, s.HW, xd.data(), y_ref.data());
    bt::cpu::global_avg_pool_backward_ref<double>(s.N, s.C, s.HW, dyd.data(), dx_ref.data());
    for (const char* sched : kSchedules) {
      simt::ScopedSchedule scope(sched);
      const std::string tag = bn_tag(sched, s, false);
      Out<float> y(rows, NAN), dx(n, NAN);
      bt::cuda::global_avg_pool_forward<Simt>(s.N, s.C, s.HW, x.data(), y.data(), nullptr);
      bt::cuda::global_avg_pool_backward<Simt>(s.N, s.C, s.HW, dy.data(), dx.data(), nullptr);
      check_close("avg_pool y " + tag, y, y_ref, 1e-6, 1e-5);
      check_close("avg_pool dx " + tag, dx, dx_ref, 1e-7, 1e-6);
    }
  }
}

TEST_CASE("cuda nn kernels (simt): l2 normalize forward and backward", "[cuda][simt]") {
  const int64_t shapes[][2] = {{3, 7}, {5, 100}, {9, 1}, {17, 33}, {2, 1000}};
  for (const auto& shape : shapes) {
    const int64_t N = shape[0], D = shape[1];
    const size_t n = size_t(N * D);
    auto x = random_vec(n, 51);
    std::fill(x.begin(), x.begin() + D, 0.0f);  // row 0 has norm 0 <= eps: y = x / eps
    const auto dy = random_vec(n, 52);
    for (float eps : {1e-12f, 0.5f}) {  // 0.5: some rows of D = 1 fall under eps
      std::vector<double> xd = to_double(x), dyd = to_double(dy), y_ref(n), dx_ref(n);
      bt::cpu::l2_normalize_forward_ref<double>(N, D, xd.data(), double(eps), y_ref.data());
      bt::cpu::l2_normalize_backward_ref<double>(N, D, xd.data(), dyd.data(), double(eps),
                                                 dx_ref.data());
      for (const char* sched : kSchedules) {
        simt::ScopedSchedule scope(sched);
        std::ostringstream os;
        os << sched << " N=" << N << " D=" << D << " eps=" << eps;
        const std::string tag = os.str();
        Out<float> y(n, NAN), dx(n, NAN);
        bt::cuda::l2_normalize_forward<Simt>(N, D, x.data(), eps, y.data(), nullptr);
        bt::cuda::l2_normalize_backward<Simt>(N, D, x.data(), dy.data(), eps, dx.data(), nullptr);
        // Rows of norm 0 divided by eps = 1e-12 give 0 exactly; dy/eps is ~1e12.
        check_close("normalize y " + tag, y, y_ref, 1e-6, 1e-5);
        check_close("normalize dx " + tag, dx, dx_ref, 1e-5, 1e-4);
        Out<float> yi(x), dxi(dy);  // in place: y == x, dx == dy
        bt::cuda::l2_normalize_forward<Simt>(N, D, yi.data(), eps, yi.data(), nullptr);
        bt::cuda::l2_normalize_backward<Simt>(N, D, x.data(), dxi.data(), eps, dxi.data(),
                                              nullptr);
        check_close("normalize y in place " + tag, yi, y_ref, 1e-6, 1e-5);
        check_close("normalize dx in place " + tag, dxi, dx_ref, 1e-5, 1e-4);
      }
    }
  }
}

namespace {
// 20011 > 64 blocks x 256 threads: the grid-stride loops take a second lap.
const int64_t kOptimSizes[] = {1, 37, 1000, 20011};
}  // namespace

TEST_CASE("cuda nn kernels (simt): sgd_step (plain, momentum, nesterov) over two steps",
          "[cuda][simt]") {
  struct Config {
    float momentum, wd;
    bool nesterov;
  };
  const Config configs[] = {{0.0f, 0.0f, false}, {0.0f, 1e-2f, false}, {0.9f, 5e-4f, false},
                            {0.9f, 1e-4f, true}};
  for (int64_t n : kOptimSizes)
    for (const Config& cfg : configs)
      for (const char* sched : kSchedules) {
        simt::ScopedSchedule scope(sched);
        const size_t un = size_t(n);
        std::vector<float> p_ref = random_vec(un, 61), buf_ref(un, 0.0f);
        Out<float> p(p_ref), buf(un, 0.0f);
        for (int step = 0; step < 2; ++step) {
          const auto g = random_vec(un, 62 + uint32_t(step));
          bt::cpu::sgd_step<float>(n, p_ref.data(), g.data(), buf_ref.data(), 0.1f, cfg.momentum,
                                   cfg.wd, cfg.nesterov, step == 0);
          bt::cuda::sgd_step<Simt>(n, p.data(), g.data(), cfg.momentum != 0 ? buf.data() : nullptr,
                                   0.1f, cfg.momentum, cfg.wd, cfg.nesterov, step == 0, nullptr);
        }
        std::ostringstream tag;
        tag << sched << " n=" << n << " momentum=" << cfg.momentum << " wd=" << cfg.wd
            << " nesterov=" << cfg.nesterov;
        check_close("sgd p " + tag.str(), p, as_ref(p_ref), 1e-6, 1e-5);
        check_close("sgd buf " + tag.str(), buf, as_ref(buf_ref), 1e-6, 1e-5);
      }
}

TEST_CASE("cuda nn kernels (simt): lars norms, device trust ratio (clip, excluded) and update",
          "[cuda][simt]") {
  for (int64_t n : {int64_t(1), int64_t(37), int64_t(20011), int64_t(100000)})
    for (int mode = 0; mode < 3; ++mode)  // 0: adapted, 1: adapted with clip, 2: excluded
      for (const char* sched : kSchedules) {
        simt::ScopedSchedule scope(sched);
        const size_t un = size_t(n);
        const bool excluded = mode == 2, clip = mode == 1;
        const float lr = 0.3f, wd = excluded ? 0.0f : 1e-2f;
        const double eta = clip ? 0.02 : 0.001;
        std::vector<float> p_ref = random_vec(un, 71), buf_ref(un, 0.0f);
        Out<float> p(p_ref), buf(un, 0.0f);
        Out<double> ws(size_t(bt::cuda::kLarsWorkspace), NAN);
        std::ostringstream tag;
        tag << sched << " n=" << n << " mode=" << mode;
        for (int step = 0; step < 2; ++step) {
          const auto g = random_vec(un, 72 + uint32_t(step), -0.1f, 0.1f);
          double q = 1.0;
          if (!excluded) {
            double pn2 = 0, dn2 = 0;
            bt::cpu::lars_norms<float>(n, p_ref.data(), g.data(), wd, &pn2, &dn2);
            q = bt::cpu::lars_trust_ratio(std::sqrt(pn2), std::sqrt(dn2), eta, lr, clip);
            bt::cuda::lars_norms<Simt>(n, p.data(), g.data(), wd, ws.data(), nullptr);
            INFO("lars norms " << tag.str() << ": " << ws.v[0] << " vs " << pn2 << ", "
                               << ws.v[1] << " vs " << dn2);
            CHECK(std::abs(ws.v[0] - pn2) <= 1e-6 * pn2);
            CHECK(std::abs(ws.v[1] - dn2) <= 1e-6 * dn2);
          }
          bt::cpu::lars_update<float>(n, p_ref.data(), g.data(), buf_ref.data(), lr, 0.9f, wd,
                                      float(q));
          bt::cuda::lars_update<Simt>(n, p.data(), g.data(), buf.data(), lr, 0.9f, wd,
                                      excluded ? nullptr : ws.data(), eta, clip, nullptr);
        }
        CHECK(ws.guard_intact());
        check_close("lars p " + tag.str(), p, as_ref(p_ref), 1e-6, 1e-5);
        check_close("lars buf " + tag.str(), buf, as_ref(buf_ref), 1e-6, 1e-5);
      }
}

TEST_CASE("cuda nn kernels (simt): adamw_step over three steps and ema_update",
          "[cuda][simt]") {
  for (int64_t n : kOptimSizes)
    for (const char* sched : kSchedules) {
      simt::ScopedSchedule scope(sched);
      const size_t un = size_t(n);
      std::ostringstream tag;
      tag << sched << " n=" << n;
      std::vector<float> p_ref = random_vec(un, 81), m_ref(un, 0.0f), v_ref(un, 0.0f);
      Out<float> p(p_ref), m(un, 0.0f), v(un, 0.0f);
      for (int64_t step = 1; step <= 3; ++step) {
        const auto g = random_vec(un, 82 + uint32_t(step));
        bt::cpu::adamw_step<float>(n, p_ref.data(), g.data(), m_ref.data(), v_ref.data(), 1e-3f,
                                   0.9f, 0.999f, 1e-8f, 0.05f, step);
        bt::cuda::adamw_step<Simt>(n, p.data(), g.data(), m.data(), v.data(), 1e-3f, 0.9f, 0.999f,
                                   1e-8f, 0.05f, step, nullptr);
      }
      check_close("adamw p " + tag.str(), p, as_ref(p_ref), 1e-6, 1e-5);
      check_close("adamw m " + tag.str(), m, as_ref(m_ref), 1e-7, 1e-5);
      check_close("adamw v " + tag.str(), v, as_ref(v_ref), 1e-7, 1e-5);

      std::vector<float> t_ref = random_vec(un, 91);
      const auto online = random_vec(un, 92);
      Out<float> t(t_ref);
      bt::cpu::ema_update<float>(n, t_ref.data(), online.data(), 0.99f);
      bt::cuda::ema_update<Simt>(n, t.data(), online.data(), 0.99f, nullptr);
      check_close("ema " + tag.str(), t, as_ref(t_ref), 1e-7, 1e-6);
    }
}
