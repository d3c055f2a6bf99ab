// The cuda device from the engine's side (engine/device.h). Without a GPU (every machine we
// build and test on), each way in — require_device, allocation, Tensor::to — is a bt::Error
// saying "no CUDA device", never a crash. With one, tensors round-trip and matmul (cuBLAS) and
// conv2d (cuDNN), forward and backward, match the cpu device.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "engine/device.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "tests/support/require_gpu.h"

using namespace bt;
using Catch::Matchers::Contains;

namespace {

bool have_gpu() {
  try {
    require_device(Device::cuda);
    return true;
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Contains("no CUDA device"));
    return false;
  }
}

void check_same(const Tensor& cuda, const Tensor& cpu, double tol) {
  const std::vector<double> a = cuda.to(Device::cpu).to_vector(), b = cpu.to_vector();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(std::abs(a[i] - b[i]) <= tol * (1 + std::abs(b[i])));
}

}  // namespace

TEST_CASE("cuda device: parse_device names the expected values") {
  CHECK(parse_device("cpu") == Device::cpu);
  CHECK(parse_device("simt") == Device::simt);
  CHECK(parse_device("cuda") == Device::cuda);
  CHECK_THROWS_WITH(parse_device("gpu"), Contains("expected cpu, simt or cuda"));
}

TEST_CASE("cuda device: without a GPU, 'no CUDA device' errors, never a crash") {
  if (have_gpu()) {
    SUCCEED("a CUDA device is present");
    return;
  }
  CHECK_THROWS_WITH(Tensor::empty({4}, DType::f32, Device::cuda), Contains("no CUDA device"));
  CHECK_THROWS_WITH(Tensor::ones({2, 3}).to(Device::cuda), Contains("no CUDA device"));
  CHECK_NOTHROW(require_device(Device::cpu));
  CHECK_NOTHROW(require_device(Device::simt));
}

TEST_CASE("cuda device: on a GPU, matmul and conv2d (forward and backward) match the cpu device") {
  if (!have_gpu()) {
    bt::testing::no_gpu_here();
    return;
  }
  Rng rng(3);
  const Tensor a = randn({17, 23}, rng), b = randn({23, 9}, rng);
  check_same(matmul(a.to(Device::cuda), b.to(Device::cuda)), matmul(a, b), 1e-5);
  check_same(matmul(a.to(Device::cuda).t().contiguous().t(), b.to(Device::cuda)), matmul(a, b), 1e-5);

  Tensor x = randn({2, 3, 9, 9}, rng), w = randn({4, 3, 3, 3}, rng);
  Tensor xg = x.to(Device::cuda), wg = w.to(Device::cuda);
  for (Tensor* t : {&x, &w, &xg, &wg}) t->requires_grad_();
  const Tensor y = conv2d(x, w, 2, 1), yg = conv2d(xg, wg, 2, 1);
  check_same(yg, y, 1e-4);
  const Tensor g = randn(y.shape(), rng);
  sum(mul(y, g)).backward();
  sum(mul(yg, g.to(Device::cuda))).backward();
  check_same(xg.grad(), x.grad(), 1e-4);
  check_same(wg.grad(), w.grad(), 1e-4);
}
