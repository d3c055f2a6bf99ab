// The nvcc build of kernels/cuda (bt_cuda_kernels) links and runs everywhere: without a GPU
// or driver a launch throws simt::Error "no CUDA device" (never a crash); with one, a kernel
// runs on it against a CPU reference. Built only when BT_CUDA is on.
#include <catch2/catch.hpp>

#if defined(BT_HAVE_CUDA_KERNELS)
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cuda/elementwise.h"
#include "kernels/simt/simt_error.h"

TEST_CASE("cuda device: a launch without a device is a simt::Error", "[cuda]") {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0) {
    SUCCEED("a CUDA device is present");
    return;
  }
  REQUIRE_THROWS_AS(bt::cuda::relu_forward<bt::cuda::Gpu>(16, nullptr, nullptr, nullptr),
                    simt::Error);
  REQUIRE_THROWS_WITH(bt::cuda::relu_forward<bt::cuda::Gpu>(16, nullptr, nullptr, nullptr),
                      Catch::Matchers::Contains("no CUDA device"));
}

TEST_CASE("cuda device: relu_forward on the GPU", "[cuda]") {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    SUCCEED("no CUDA device: nothing to run");
    return;
  }
  std::vector<float> x(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 17) - 8) * 0.5f;
  const size_t bytes = x.size() * sizeof(float);
  float *dx = nullptr, *dy = nullptr;
  REQUIRE(cudaMalloc(reinterpret_cast<void**>(&dx), bytes) == cudaSuccess);
  REQUIRE(cudaMalloc(reinterpret_cast<void**>(&dy), bytes) == cudaSuccess);
  REQUIRE(cudaMemcpy(dx, x.data(), bytes, cudaMemcpyHostToDevice) == cudaSuccess);
  bt::cuda::relu_forward<bt::cuda::Gpu>(int64_t(x.size()), dx, dy, nullptr);
  std::vector<float> y(x.size());
  REQUIRE(cudaMemcpy(y.data(), dy, bytes, cudaMemcpyDeviceToHost) == cudaSuccess);
  cudaFree(dx);
  cudaFree(dy);
  for (size_t i = 0; i < x.size(); ++i) CHECK(y[i] == (x[i] > 0 ? x[i] : 0.0f));
}
#endif
