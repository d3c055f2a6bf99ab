// The emulator's checks (docs/simt.md), each shown firing on a deliberately wrong tiny kernel or
// call: host pointers in launches and copies, writes past a device buffer, host dereference of
// device memory, poison on allocation, static shared memory over 48 KiB, and the GPU build's
// grid sizes on demand. Unlike the kernel unit tests, this file never allows host pointers.
#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/simt/simt.h"
// (simt.h first: backend.h's grid_1d exists in the emulator build)
#include "kernels/cuda/backend.h"
#include "kernels/cuda/elementwise.h"

using Catch::Matchers::Contains;

namespace {

__global__ void fill_kernel(int n, float v, float* out) {
  for (int i = int(blockIdx.x * blockDim.x + threadIdx.x); i < n; i += int(gridDim.x * blockDim.x)) out[i] = v;
}

// Off by one: thread n writes out[n], one element past the buffer.
__global__ void overrun_kernel(int n, float* out) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i <= n) out[i] = 1.0f;
}

// 13000 floats = 52000 bytes of static shared memory: over the 48 KiB a GPU allows.
__global__ void big_shared_kernel(float* out) {
  SIMT_SHARED(float, big, [13000]);
  big[threadIdx.x] = float(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = big[31 - threadIdx.x];
}

// Within the limit: 12 KiB.
__global__ void small_shared_kernel(float* out) {
  SIMT_SHARED(float, tile, [3072]);
  tile[threadIdx.x] = float(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = tile[31 - threadIdx.x];
}

struct DeviceFloats {
  float* p;
  size_t n;
  explicit DeviceFloats(size_t count) : p(static_cast<float*>(simt::device_malloc(count * sizeof(float)))), n(count) {}
  ~DeviceFloats() { simt::device_free(p); }
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;
  std::vector<float> host() const {
    std::vector<float> v(n);
    simt::memcpy(v.data(), p, n * sizeof(float), simt::CopyKind::device_to_host);
    return v;
  }
};

}  // namespace

TEST_CASE("simt memory: a fresh allocation is poisoned (NaN), copies round-trip", "[simt]") {
  DeviceFloats d(37);
  for (float v : d.host()) CHECK(std::isnan(v));
  const std::vector<float> x{1, 2, 3};
  DeviceFloats e(3);
  simt::memcpy(e.p, x.data(), 12, simt::CopyKind::host_to_device);
  CHECK(e.host() == x);
}

TEST_CASE("simt memory: a host pointer in a launch is rejected, naming the kernel and argument", "[simt]") {
  std::vector<float> host(64);
  REQUIRE_THROWS_WITH(simt::launch(fill_kernel, dim3(1), dim3(64), 0, nullptr, 64, 1.0f, host.data()),
                      Contains("fill_kernel") && Contains("argument 2") && Contains("host pointer"));
  DeviceFloats d(64);
  simt::launch(fill_kernel, dim3(1), dim3(64), 0, nullptr, 64, 2.0f, d.p);
  CHECK(d.host() == std::vector<float>(64, 2.0f));
}

TEST_CASE("simt memory: a freed device pointer in a launch is rejected", "[simt]") {
  void* p = simt::device_malloc(256);
  simt::device_free(p);
  REQUIRE_THROWS_WITH(simt::launch(fill_kernel, dim3(1), dim3(32), 0, nullptr, 64, 1.0f, static_cast<float*>(p)),
                      Contains("fill_kernel") && Contains("freed"));
}

TEST_CASE("simt memory: copies check both sides", "[simt]") {
  DeviceFloats d(8);
  std::vector<float> host(16);
  CHECK_THROWS_WITH(simt::memcpy(host.data(), host.data() + 8, 32, simt::CopyKind::device_to_host),
                    Contains("source") && Contains("not inside one live device allocation"));
  CHECK_THROWS_WITH(simt::memcpy(d.p, host.data(), 64, simt::CopyKind::host_to_device),
                    Contains("destination"));  // 16 floats into a buffer of 8
  CHECK_THROWS_WITH(simt::memcpy(d.p, d.p, 32, simt::CopyKind::host_to_device),
                    Contains("device memory where a host pointer belongs"));
}

TEST_CASE("simt memory: a kernel writing past the end of a buffer is reported after the launch", "[simt]") {
  DeviceFloats d(100);
  REQUIRE_THROWS_WITH(simt::launch(overrun_kernel, dim3(1), dim3(128), 0, nullptr, 100, d.p),
                      Contains("overrun_kernel") && Contains("wrote past the end of a device buffer of 400 bytes"));
  // The guard is restored once reported; a correct launch is clean again.
  simt::launch(fill_kernel, dim3(1), dim3(64), 0, nullptr, 100, 0.0f, d.p);
}

TEST_CASE("simt memory: host code dereferencing device memory stops with a message", "[simt]") {
  if (const char* p = std::getenv("SIMT_PROTECT"); p && std::string(p) == "0") {
    SUCCEED("SIMT_PROTECT=0: the protection is off");
    return;
  }
  DeviceFloats d(4);
  int err[2];
  REQUIRE(pipe(err) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    dup2(err[1], STDERR_FILENO);
    signal(SIGABRT, SIG_DFL);               // the child's abort is not this test's failure
    simt::detail::install_fault_handler();  // ahead of Catch's own SIGSEGV handler
    volatile float v = d.p[0];  // the bug: no copy to the host
    (void)v;
    _exit(0);
  }
  close(err[1]);
  std::string output;
  char buf[512];
  for (ssize_t k; (k = read(err[0], buf, sizeof buf)) > 0;) output.append(buf, size_t(k));
  close(err[0]);
  int status = 0;
  waitpid(child, &status, 0);
  INFO(output);
  CHECK(WIFSIGNALED(status));
  CHECK_THAT(output, Contains("host code accessed emulated device memory"));
}

TEST_CASE("simt: static shared memory over 48 KiB fails, naming the kernel", "[simt]") {
  DeviceFloats d(32);
  REQUIRE_THROWS_WITH(simt::launch(big_shared_kernel, dim3(1), dim3(32), 0, nullptr, d.p),
                      Contains("static shared memory over 48 KiB") && Contains("big_shared_kernel") &&
                          Contains("52000 bytes"));
  simt::launch(small_shared_kernel, dim3(2), dim3(32), 0, nullptr, d.p);
  CHECK(d.host()[0] == 31.0f);
}

TEST_CASE("simt: ScopedGpuGrids runs the launchers with the GPU build's grid sizes", "[simt]") {
  const int64_t n = int64_t(1) << 20;
  CHECK(bt::cuda::grid_1d(n, 256) == 64);  // the emulator's smaller grids (unless SIMT_GRIDS=gpu)
  {
    simt::ScopedGpuGrids gpu;
    CHECK_FALSE(simt::small_grids());
    CHECK(bt::cuda::grid_1d(n, 256) == 1024);
    // A launcher on device memory with 257 blocks of 256 threads: same result.
    const int64_t m = 257 * 256;
    DeviceFloats a{size_t(m)}, b{size_t(m)}, c{size_t(m)};
    std::vector<float> x(static_cast<size_t>(m)), y(static_cast<size_t>(m));
    for (int64_t i = 0; i < m; ++i) x[size_t(i)] = float(i % 97), y[size_t(i)] = float(i % 13);
    simt::memcpy(a.p, x.data(), size_t(m) * 4, simt::CopyKind::host_to_device);
    simt::memcpy(b.p, y.data(), size_t(m) * 4, simt::CopyKind::host_to_device);
    bt::cuda::add<bt::cuda::Simt>(m, a.p, b.p, c.p, nullptr);
    const std::vector<float> sum = c.host();
    int64_t bad = 0;
    for (int64_t i = 0; i < m; ++i) bad += sum[size_t(i)] != x[size_t(i)] + y[size_t(i)];
    CHECK(bad == 0);
  }
  CHECK(simt::small_grids());
}
