// The nvcc build of kernels/cuda (bt_cuda_kernels) links and runs everywhere: without a GPU
// or driver a launch throws simt::Error "no CUDA device" (never a crash); with one, a kernel
// runs on it against a CPU reference. Built only when BT_CUDA is on.
#include <catch2/catch.hpp>

#if defined(BT_HAVE_CUDA_KERNELS)
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/conv2d_ref.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cuda/cublas_gemm.h"
#include "kernels/cuda/cudnn_conv.h"
#include "kernels/cuda/device_runtime.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/simt/simt_error.h"
#include "tests/support/device_buffer.h"
#include "tests/support/require_gpu.h"

using bt::testing::DeviceBuffer;

TEST_CASE("cuda device: a launch without a device is a simt::Error", "[cuda]") {
  if (bt::cuda::device_available()) {
    SUCCEED("a CUDA device is present");
    return;
  }
  REQUIRE_THROWS_AS(bt::cuda::relu_forward<bt::cuda::Gpu>(16, nullptr, nullptr, nullptr),
                    simt::Error);
  REQUIRE_THROWS_WITH(bt::cuda::relu_forward<bt::cuda::Gpu>(16, nullptr, nullptr, nullptr),
                      Catch::Matchers::Contains("no CUDA device"));
}

TEST_CASE("cuda device: relu_forward on the GPU", "[cuda]") {
  if (!bt::cuda::device_available()) {
    bt::testing::no_gpu_here();
    return;
  }
  std::vector<float> x(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 17) - 8) * 0.5f;
  DeviceBuffer dx(x), dy(x.size());
  bt::cuda::relu_forward<bt::cuda::Gpu>(int64_t(x.size()), dx.p, dy.p, nullptr);
  const std::vector<float> y = dy.host();
  for (size_t i = 0; i < x.size(); ++i) CHECK(y[i] == (x[i] > 0 ? x[i] : 0.0f));
}

// ---- the host glue of the cuda device: runtime, cuBLAS GEMM, cuDNN convolution ----------------

namespace {

std::vector<float> pattern(size_t n, int seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(int((i * 7 + size_t(seed) * 13) % 23) - 11) / 8.0f;
  return v;
}

void check_near(const std::vector<float>& got, const std::vector<float>& want, float tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(std::abs(got[i] - want[i]) <= tol * (1 + std::abs(want[i])));
}

}  // namespace

TEST_CASE("cuda glue: without a device every entry point says 'no CUDA device'", "[cuda]") {
  if (bt::cuda::device_available()) {
    SUCCEED("a CUDA device is present");
    return;
  }
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(bt::cuda::require_device(), Contains("no CUDA device"));
  CHECK_THROWS_WITH(bt::cuda::device_alloc(64), Contains("no CUDA device"));
  float host = 0;
  CHECK_THROWS_WITH(bt::cuda::device_memcpy(&host, false, &host, true, 4), Contains("no CUDA device"));
  CHECK_THROWS_WITH(bt::cuda::cublas_sgemm(false, false, 2, 2, 2, 1, &host, 2, &host, 2, 0, &host, 2),
                    Contains("no CUDA device"));
  const bt::cpu::Conv2dShape s{1, 1, 3, 3, 1, 3, 3, 1, 1, 1, 1};
  CHECK_THROWS_WITH(bt::cuda::cudnn_conv2d_forward(s, &host, &host, &host), Contains("no CUDA device"));
}

TEST_CASE("cuda glue: cuBLAS SGEMM (all transposes, padded rows) against the CPU reference", "[cuda]") {
  if (!bt::cuda::device_available()) {
    bt::testing::no_gpu_here();
    return;
  }
  const int64_t M = 37, N = 29, K = 45, pad = 3;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
      const auto a = pattern(size_t((ta ? K : M) * lda), 1), b = pattern(size_t((tb ? N : K) * ldb), 2);
      auto c = pattern(size_t(M * ldc), 3);
      DeviceBuffer da(a), db(b), dc(c);
      bt::cuda::cublas_sgemm(ta, tb, M, N, K, 0.5f, da.p, lda, db.p, ldb, 2.0f, dc.p, ldc);
      bt::cpu::gemm_ref(ta, tb, M, N, K, 0.5f, a.data(), lda, b.data(), ldb, 2.0f, c.data(), ldc);
      check_near(dc.host(), c, 1e-5f);
    }
}

TEST_CASE("cuda glue: cuDNN convolution, three passes, against the CPU reference", "[cuda]") {
  if (!bt::cuda::device_available()) {
    bt::testing::no_gpu_here();
    return;
  }
  for (const bt::cpu::Conv2dShape& s : {bt::cpu::Conv2dShape{2, 3, 9, 7, 5, 3, 3, 1, 1, 1, 1},
                                        bt::cpu::Conv2dShape{3, 4, 8, 8, 6, 1, 1, 2, 2, 0, 0},
                                        bt::cpu::Conv2dShape{1, 2, 11, 11, 3, 7, 7, 2, 2, 3, 3}}) {
    INFO(s.str());
    const auto x = pattern(size_t(s.x_size()), 1), w = pattern(size_t(s.w_size()), 2);
    const auto dy = pattern(size_t(s.y_size()), 3);
    std::vector<float> y(size_t(s.y_size())), dx(size_t(s.x_size())), dw(size_t(s.w_size()));
    bt::cpu::conv2d_forward_ref(s, x.data(), w.data(), y.data());
    bt::cpu::conv2d_backward_data_ref(s, dy.data(), w.data(), dx.data());
    bt::cpu::conv2d_backward_weight_ref(s, x.data(), dy.data(), dw.data());
    DeviceBuffer gx(x), gw(w), gdy(dy), gy(y), gdx(dx), gdw(dw);
    bt::cuda::cudnn_conv2d_forward(s, gx.p, gw.p, gy.p);
    bt::cuda::cudnn_conv2d_backward_data(s, gdy.p, gw.p, gdx.p);
    bt::cuda::cudnn_conv2d_backward_weight(s, gx.p, gdy.p, gdw.p);
    check_near(gy.host(), y, 1e-4f);
    check_near(gdx.host(), dx, 1e-4f);
    check_near(gdw.host(), dw, 1e-4f);
  }
}
#endif
