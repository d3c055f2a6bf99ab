// kernels/cuda/*.cu run by the SIMT emulator (bt_simt_kernels) against plain CPU references in
// double, under two schedules (forward, random:1), ragged sizes included. Outputs carry a
// sentinel guard zone after their end (and in the padding of strided matrices) that must
// survive the kernel.
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cuda/copy.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/reduce.h"
#include "kernels/simt/simt.h"
#include "tests/support/guarded_output.h"
#include "tests/support/random_vector.h"

using bt::cuda::Simt;

// These tests run the kernels over std::vector buffers (host memory): the engine and the
// kernel-case registry pass emulated device memory, whose checks tests/test_simt_memory.cpp covers.
static const simt::testing::AllowHostPointers kAllowHostPointers;

namespace {

const char* const kSchedules[] = {"forward", "random:1"};
using bt::testing::kSentinel;
using Out = bt::testing::GuardedOutput<float>;

// randv (tests/support/random_vector.h) with this file's default range and an exact zero
// every 7th element.
std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -2.0f, float hi = 2.0f) {
  std::vector<float> v = bt::testing::randv<float>(n, seed, lo, hi);
  for (size_t i = 0; i < n; i += 7) v[i] = 0.0f;  // the ReLU kink
  return v;
}

// |got - ref| <= atol + rtol * |ref| for every finite ref; reports the first mismatches.
void check_close(const std::string& what, const float* got, const std::vector<double>& ref,
                 double atol, double rtol, size_t stride_from = 0, size_t row_len = 0,
                 size_t ld = 0) {
  size_t bad = 0;
  std::ostringstream first;
  for (size_t i = 0; i < ref.size(); ++i) {
    // Matrices: ref is dense (rows, row_len), got has row stride ld.
    const size_t gi = row_len ? (i / row_len) * ld + i % row_len : i + stride_from;
    if (!std::isfinite(ref[i])) continue;
    const double err = std::abs(double(got[gi]) - ref[i]);
    if (!(err <= atol + rtol * std::abs(ref[i]))) {
      if (bad < 5) first << "  [" << i << "] got " << got[gi] << " want " << ref[i] << "\n";
      ++bad;
    }
  }
  INFO(what << ": " << bad << " of " << ref.size() << " mismatches\n" << first.str());
  CHECK(bad == 0);
}

using Map1 = std::function<void(int64_t, const float*, float*)>;
using Map2 = std::function<void(int64_t, const float*, const float*, float*)>;

}  // namespace

TEST_CASE("cuda kernels (simt): elementwise", "[cuda][simt]") {
  // 20011 > 64 blocks x 256 threads: the grid-stride loops take a second lap.
  for (int64_t n : {1, 31, 256, 1000, 20011}) {
    const auto a = random_vec(size_t(n), 1), b = random_vec(size_t(n), 2);
    for (const char* sched : kSchedules) {
      simt::ScopedSchedule s(sched);
      const std::string tag = std::string(sched) + " n=" + std::to_string(n);
      auto unary = [&](const char* name, const Map1& run, auto ref_fn) {
        Out y(size_t(n), NAN);
        run(n, a.data(), y.data());
        std::vector<double> ref(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) ref[size_t(i)] = ref_fn(double(a[size_t(i)]));
        check_close(std::string(name) + " " + tag, y.data(), ref, 1e-6, 1e-6);
        CHECK(y.guard_intact());
      };
      auto binary = [&](const char* name, const Map2& run, auto ref_fn) {
        Out c(size_t(n), NAN);
        run(n, a.data(), b.data(), c.data());
        std::vector<double> ref(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i)
          ref[size_t(i)] = ref_fn(double(a[size_t(i)]), double(b[size_t(i)]));
        check_close(std::string(name) + " " + tag, c.data(), ref, 1e-6, 1e-6);
        CHECK(c.guard_intact());
      };
      unary(
          "relu_forward",
          [](int64_t m, const float* x, float* y) {
            bt::cuda::relu_forward<Simt>(m, x, y, nullptr);
          },
          [](double x) { return x > 0 ? x : 0.0; });
      unary(
          "scale",
          [](int64_t m, const float* x, float* y) {
            bt::cuda::scale<Simt>(m, -1.5f, x, y, nullptr);
          },
          [](double x) { return -1.5 * x; });
      unary(
          "axpby beta=0 (NaN y)",
          [](int64_t m, const float* x, float* y) {
            bt::cuda::axpby<Simt>(m, 0.5f, x, 0.0f, y, nullptr);
          },
          [](double x) { return 0.5 * x; });
      binary(
          "relu_backward",  // a plays the forward output y, b the incoming gradient
          [](int64_t m, const float* y, const float* dy, float* dx) {
            bt::cuda::relu_backward<Simt>(m, y, dy, dx, nullptr);
          },
          [](double y, double dy) { return y > 0 ? dy : 0.0; });
      binary(
          "add",
          [](int64_t m, const float* x, const float* y, float* z) {
            bt::cuda::add<Simt>(m, x, y, z, nullptr);
          },
          [](double x, double y) { return x + y; });
      binary(
          "mul",
          [](int64_t m, const float* x, const float* y, float* z) {
            bt::cuda::mul<Simt>(m, x, y, z, nullptr);
          },
          [](double x, double y) { return x * y; });
      binary(
          "add_relu",
          [](int64_t m, const float* x, const float* y, float* z) {
            bt::cuda::add_relu<Simt>(m, x, y, z, nullptr);
          },
          [](double x, double y) { return x + y > 0 ? x + y : 0.0; });
      binary(
          "axpby",  // c starts as b, then c = 2a - 0.25c
          [](int64_t m, const float* x, const float* y, float* z) {
            std::copy(y, y + m, z);
            bt::cuda::axpby<Simt>(m, 2.0f, x, -0.25f, z, nullptr);
          },
          [](double x, double y) { return 2.0 * x - 0.25 * y; });
      binary(
          "relu_forward in place",
          [](int64_t m, const float* x, const float*, float* z) {
            std::copy(x, x + m, z);
            bt::cuda::relu_forward<Simt>(m, z, z, nullptr);
          },
          [](double x, double) { return x > 0 ? x : 0.0; });
    }
  }
}

TEST_CASE("cuda kernels (simt): elementwise keeps NaN through ReLU", "[cuda][simt]") {
  std::vector<float> x = {NAN, -1.0f, 2.0f};
  Out y(3, 0.0f);
  bt::cuda::relu_forward<Simt>(3, x.data(), y.data(), nullptr);
  CHECK(std::isnan(y.v[0]));
  CHECK(y.v[1] == 0.0f);
  CHECK(y.v[2] == 2.0f);
}

TEST_CASE("cuda kernels (simt): strided copy (permute, broadcast, slice)", "[cuda][simt]") {
  using bt::cuda::StridedLayout;
  struct Case {
    const char* name;
    StridedLayout layout;
    size_t src_size, dst_size;
  };
  // The layouts the engine produces: a transposed matrix made contiguous, a (3, 1, 5) tensor
  // broadcast to (3, 4, 5) (stride 0), a (2, 3, 4) tensor permuted to (4, 2, 3), a column slice
  // written into every other row, a scalar, and one long enough for a second grid-stride lap.
  const Case cases[] = {
      {"transpose 7x5", {2, {5, 7}, {1, 5}, {7, 1}}, 35, 35},
      {"broadcast (3,1,5)->(3,4,5)", {3, {3, 4, 5}, {5, 0, 1}, {20, 5, 1}}, 15, 60},
      {"permute (2,3,4)->(4,2,3)", {3, {4, 2, 3}, {1, 12, 4}, {6, 3, 1}}, 24, 24},
      {"slice into strided rows", {2, {3, 2}, {6, 1}, {8, 1}}, 18, 24},
      {"scalar", {0, {}, {}, {}}, 1, 1},
      {"permute 2x20011", {2, {20011, 2}, {1, 20011}, {2, 1}}, 40022, 40022},
  };
  for (const Case& c : cases) {
    const auto src = random_vec(c.src_size, 7);
    // Reference: every coordinate tuple in row-major order, offsets summed directly.
    std::vector<double> ref(c.dst_size, double(kSentinel));
    const StridedLayout& l = c.layout;
    int64_t count = 1;
    for (int k = 0; k < l.ndim; ++k) count *= l.shape[k];
    for (int64_t i = 0; i < count; ++i) {
      int64_t rest = i, s = 0, d = 0;
      for (int k = l.ndim - 1; k >= 0; --k) {
        s += (rest % l.shape[k]) * l.src_strides[k];
        d += (rest % l.shape[k]) * l.dst_strides[k];
        rest /= l.shape[k];
      }
      ref[size_t(d)] = src[size_t(s)];
    }
    for (const char* sched : kSchedules) {
      simt::ScopedSchedule schedule(sched);
      Out dst(c.dst_size, kSentinel);  // positions not written keep the sentinel, as in ref
      bt::cuda::strided_copy<Simt>(l, src.data(), dst.data(), nullptr);
      check_close(std::string(c.name) + " " + sched, dst.data(), ref, 0, 0);
      CHECK(dst.guard_intact());
    }
  }
  StridedLayout too_deep;
  too_deep.ndim = bt::cuda::kMaxCopyDims + 1;
  CHECK_THROWS_AS(bt::cuda::strided_copy<Simt>(too_deep, nullptr, nullptr, nullptr), std::invalid_argument);
}

TEST_CASE("cuda kernels (simt): sum over dim 1 and dim 0", "[cuda][simt]") {
  // cols <= 256 takes the warp-per-row kernel, longer rows the block-per-row kernel.
  const int64_t shapes[][2] = {{1, 1},     {3, 1000},  {37, 33}, {1000, 5}, {5, 3000},
                               {257, 300}, {600, 256}, {2, 257}, {1, 70000}};
  for (const auto& shape : shapes) {
    const int64_t rows = shape[0], cols = shape[1];
    const auto x = random_vec(size_t(rows * cols), 3);
    for (const char* sched : kSchedules) {
      simt::ScopedSchedule s(sched);
      const std::string tag =
          std::string(sched) + " " + std::to_string(rows) + "x" + std::to_string(cols);
      Out out1(size_t(rows), NAN), out0(size_t(cols), NAN);
      const float alpha = 0.5f;
      bt::cuda::sum_dim1<Simt>(rows, cols, x.data(), alpha, out1.data(), nullptr);
      bt::cuda::sum_dim0<Simt>(rows, cols, x.data(), alpha, out0.data(), nullptr);
      std::vector<double> ref1(size_t(rows), 0.0), ref0(size_t(cols), 0.0);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          ref1[size_t(r)] += 0.5 * x[size_t(r * cols + c)];
          ref0[size_t(c)] += 0.5 * x[size_t(r * cols + c)];
        }
      check_close("sum_dim1 " + tag, out1.data(), ref1, 2e-6 * double(cols), 1e-5);
      check_close("sum_dim0 " + tag, out0.data(), ref0, 2e-6 * double(rows), 1e-5);
      CHECK(out1.guard_intact());
      CHECK(out0.guard_intact());
    }
  }
}

namespace {

using GemmFn = void (*)(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                        const float*, int64_t, float, float*, int64_t, void*);
struct GemmVersion {
  const char* name;
  GemmFn fn;
};
const GemmVersion kGemmVersions[] = {{"v1_naive", &bt::cuda::gemm_v1_naive<Simt>},
                                     {"v2_tiled", &bt::cuda::gemm_v2_tiled<Simt>}};

}  // namespace

TEST_CASE("cuda kernels (simt): sgemm versions against the CPU reference", "[cuda][simt]") {
  const int64_t shapes[][3] = {{1, 1, 1},      {5, 7, 3},    {33, 17, 65}, {64, 64, 64},
                               {100, 37, 129}, {31, 100, 1}, {8, 9, 0},    {65, 33, 40}};
  uint32_t seed = 10;
  for (const auto& shape : shapes) {
    const int64_t M = shape[0], N = shape[1], K = shape[2];
    for (int trans = 0; trans < 4; ++trans) {
      const bool ta = trans & 1, tb = trans & 2;
      // Stored A is (M, K) or (K, M); B is (K, N) or (N, K); padded row strides.
      const int64_t a_rows = ta ? K : M, a_cols = ta ? M : K, lda = a_cols + 3;
      const int64_t b_rows = tb ? N : K, b_cols = tb ? K : N, ldb = b_cols + 1;
      const int64_t ldc = N + 2;
      const auto A = random_vec(size_t(std::max<int64_t>(a_rows * lda, 1)), ++seed, -1.0f, 1.0f);
      const auto Bm = random_vec(size_t(std::max<int64_t>(b_rows * ldb, 1)), ++seed, -1.0f, 1.0f);
      const auto C0 = random_vec(size_t(M * ldc), ++seed, -1.0f, 1.0f);
      for (float beta : {0.0f, 0.5f}) {
        // The reference in double, on the dense part of C.
        std::vector<double> Ad(A.begin(), A.end()), Bd(Bm.begin(), Bm.end()),
            Cd(C0.begin(), C0.end());
        bt::cpu::gemm_ref<double>(ta, tb, M, N, K, 1.25, Ad.data(), lda, Bd.data(), ldb, beta,
                                  Cd.data(), ldc);
        std::vector<double> ref(static_cast<size_t>(M * N));
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) ref[size_t(i * N + j)] = Cd[size_t(i * ldc + j)];
        for (const auto& version : kGemmVersions) {
          for (const char* sched : kSchedules) {
            simt::ScopedSchedule s(sched);
            Out C(size_t(M * ldc), 0.0f);
            for (int64_t i = 0; i < M; ++i)
              for (int64_t j = 0; j < ldc; ++j)  // beta == 0: C is not read, NaN must vanish
                C.v[size_t(i * ldc + j)] = j >= N      ? kSentinel
                                           : beta == 0 ? NAN
                                                       : C0[size_t(i * ldc + j)];
            version.fn(ta, tb, M, N, K, 1.25f, A.data(), lda, Bm.data(), ldb, beta, C.data(), ldc,
                       nullptr);
            std::ostringstream tag;
            tag << version.name << " " << sched << " M=" << M << " N=" << N << " K=" << K
                << " ta=" << ta << " tb=" << tb << " beta=" << beta;
            check_close(tag.str(), C.data(), ref, 1e-5 * double(K + 1), 1e-5, 0, size_t(N),
                        size_t(ldc));
            bool padding_intact = C.guard_intact();
            for (int64_t i = 0; i < M; ++i)
              for (int64_t j = N; j < ldc; ++j)
                padding_intact &= C.v[size_t(i * ldc + j)] == kSentinel;
            INFO(tag.str());
            CHECK(padding_intact);
          }
        }
      }
    }
  }
}

// The emulator's speed on a barrier-heavy kernel (docs/design.md §4 quotes ~30-40 ms). Hidden: a
// timing, not a check; run with `test_cuda_kernels "[perf]"`.
TEST_CASE("cuda kernels (simt): 256^3 sgemm timing", "[.][perf]") {
  const int64_t n = 256;
  const auto A = random_vec(size_t(n * n), 1, -1.0f, 1.0f),
             B = random_vec(size_t(n * n), 2, -1.0f, 1.0f);
  std::vector<float> C(size_t(n * n)), ref(size_t(n * n));
  bt::cpu::gemm(false, false, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, ref.data(), n);
  for (const auto& version : kGemmVersions) {
    version.fn(false, false, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, C.data(), n, nullptr);
    double best = 1e30;
    for (int rep = 0; rep < 5; ++rep) {
      auto t0 = std::chrono::steady_clock::now();
      version.fn(false, false, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, C.data(), n, nullptr);
      best = std::min(best,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    double max_err = 0;
    for (size_t i = 0; i < C.size(); ++i)
      max_err = std::max(max_err, double(std::abs(C[i] - ref[i])));
    WARN(version.name << " 256^3 on the emulator (" << simt::num_threads()
                      << " threads): " << best * 1e3 << " ms, max |err| vs OpenBLAS " << max_err);
    CHECK(max_err < 1e-3);
  }
}

