// The emulator's access checks (docs/simt.md, "Access checks"), each shown catching a
// deliberately wrong tiny kernel, with its corrected twin passing: shared-memory races
// (write-write, read-after-write, write-after-read, across warps, warp-synchronous code with and
// without __syncwarp) and out-of-bounds device-memory reads and writes. This file is compiled
// with the kernels' instrumentation (BT_SIMT_CHECK_FLAGS, tests/CMakeLists.txt), as
// kernels/cuda/*.cu are.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "kernels/simt/simt.h"

using Catch::Matchers::Contains;

namespace {

struct DeviceFloats {
  float* p;
  size_t n;
  explicit DeviceFloats(size_t count) : p(static_cast<float*>(simt::device_malloc(count * sizeof(float)))), n(count) {}
  ~DeviceFloats() { simt::device_free(p); }
  DeviceFloats(const DeviceFloats&) = delete;
  DeviceFloats& operator=(const DeviceFloats&) = delete;
  void set(const std::vector<float>& v) { simt::memcpy(p, v.data(), n * sizeof(float), simt::CopyKind::host_to_device); }
  std::vector<float> host() const {
    std::vector<float> v(n);
    simt::memcpy(v.data(), p, n * sizeof(float), simt::CopyKind::device_to_host);
    return v;
  }
};

// Every thread writes the same shared word: a write-write race between threads 0 and 1.
__global__ void all_write_one_kernel(float* out) {
  SIMT_SHARED(float, flag, [4]);
  flag[0] = float(threadIdx.x);
  __syncthreads();
  if (threadIdx.x == 0) out[0] = flag[0];
}

// Rotates a block's values through shared memory; `with_barrier` false drops the barrier
// between the writes and the reads (a read-after-write race across threads).
__global__ void rotate_kernel(const float* in, float* out, bool with_barrier) {
  SIMT_SHARED(float, tile, [64]);
  const unsigned t = threadIdx.x;
  tile[t] = in[t];
  if (with_barrier) __syncthreads();
  out[t] = tile[(t + 1) % blockDim.x];
}

// Reads its neighbour's word, then overwrites its own in the same phase: a write-after-read
// race (the neighbour may not have read yet), unless a barrier separates them.
__global__ void shift_in_place_kernel(float* out, bool with_barrier) {
  SIMT_DYNAMIC_SHARED(float, buf);
  const unsigned t = threadIdx.x;
  buf[t] = float(t);
  __syncthreads();
  const float next = t + 1 < blockDim.x ? buf[t + 1] : 0.0f;
  if (with_barrier) __syncthreads();
  buf[t] = next;
  __syncthreads();
  out[t] = buf[t];
}

// Lanes exchange words through shared memory with __syncwarp between write and read: ordered
// within one warp; `across_warps` pairs lanes of different warps, which __syncwarp does not order.
__global__ void warp_exchange_kernel(float* out, bool with_syncwarp, bool across_warps) {
  SIMT_SHARED(float, words, [64]);
  const unsigned t = threadIdx.x;
  words[t] = float(t);
  if (with_syncwarp) __syncwarp();
  out[t] = words[across_warps ? (t + 32) % 64 : t ^ 1u];
}

// A warp reduction by shuffles only: no shared memory, nothing to report.
__global__ void shuffle_sum_kernel(const float* in, float* out) {
  float v = in[threadIdx.x];
  for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffffu, v, o);
  if (threadIdx.x == 0) out[0] = v;
}

// Off by one: thread n reads in[n], one element past the buffer (the write stays in bounds).
__global__ void read_overrun_kernel(int n, const float* in, float* out) {
  const int i = int(threadIdx.x);
  if (i <= n) out[i % n] = in[i];
}

// Reads element `index` of its input: past the end, into the guard zone after the buffer
// (an index that lands inside another live buffer is not caught: docs/simt.md).
__global__ void wild_read_kernel(int index, const float* in, float* out) { out[0] = in[index]; }

// Off by one on the output: out[n] is written.
__global__ void write_overrun_kernel(int n, float* out) {
  const int i = int(threadIdx.x);
  if (i <= n) out[i] = 1.0f;
}

}  // namespace

TEST_CASE("simt checks: a write-write race in shared memory names the kernel, the variable, the byte and both threads",
          "[simt]") {
  DeviceFloats out(1);
  REQUIRE_THROWS_WITH(simt::launch(all_write_one_kernel, dim3(1), dim3(32), 0, nullptr, out.p),
                      Contains("shared-memory race") && Contains("all_write_one_kernel") &&
                          Contains("byte 0 of static shared `flag`") && Contains("thread (1,0,0) wrote") &&
                          Contains("that thread (0,0,0) wrote"));
}

TEST_CASE("simt checks: a missing __syncthreads between shared writes and reads is a race", "[simt]") {
  DeviceFloats in(64), out(64);
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[size_t(i)] = float(i);
  in.set(x);
  // Thread 0 reads tile[1] (byte 4), which thread 1 wrote in the same phase (reverse: the
  // reader comes second; forward: thread 0 reads before thread 1 writes).
  REQUIRE_THROWS_WITH(
      [&] {
        simt::ScopedSchedule reverse("reverse");
        simt::launch(rotate_kernel, dim3(1), dim3(64), 0, nullptr, in.p, out.p, false);
      }(),
      Contains("shared-memory race") && Contains("rotate_kernel") && Contains("of static shared `tile`"));
  REQUIRE_THROWS_WITH(simt::launch(rotate_kernel, dim3(1), dim3(64), 0, nullptr, in.p, out.p, false),
                      Contains("shared-memory race") && Contains("byte 4 of static shared `tile`") &&
                          Contains("thread (1,0,0) wrote") && Contains("thread (0,0,0) read"));
  simt::launch(rotate_kernel, dim3(2), dim3(64), 0, nullptr, in.p, out.p, true);
  const std::vector<float> y = out.host();
  for (int i = 0; i < 64; ++i) CHECK(y[size_t(i)] == float((i + 1) % 64));
}

TEST_CASE("simt checks: overwriting shared data a neighbour still has to read is a race (dynamic shared memory)",
          "[simt]") {
  DeviceFloats out(96);
  REQUIRE_THROWS_WITH(simt::launch(shift_in_place_kernel, dim3(1), dim3(96), 96 * sizeof(float), nullptr, out.p, false),
                      Contains("shared-memory race") && Contains("shift_in_place_kernel") &&
                          Contains("of dynamic shared memory") && Contains("wrote byte") && Contains("read in the same"));
  simt::launch(shift_in_place_kernel, dim3(1), dim3(96), 96 * sizeof(float), nullptr, out.p, true);
  const std::vector<float> y = out.host();
  for (int i = 0; i < 96; ++i) CHECK(y[size_t(i)] == (i + 1 < 96 ? float(i + 1) : 0.0f));
}

TEST_CASE("simt checks: __syncwarp orders the lanes of one warp, not two warps; shuffles need no shared memory",
          "[simt]") {
  DeviceFloats out(64);
  simt::launch(warp_exchange_kernel, dim3(1), dim3(64), 0, nullptr, out.p, true, false);
  const std::vector<float> y = out.host();
  for (int i = 0; i < 64; ++i) CHECK(y[size_t(i)] == float(i ^ 1));
  REQUIRE_THROWS_WITH(simt::launch(warp_exchange_kernel, dim3(1), dim3(64), 0, nullptr, out.p, false, false),
                      Contains("shared-memory race") && Contains("warp_exchange_kernel"));
  REQUIRE_THROWS_WITH(simt::launch(warp_exchange_kernel, dim3(1), dim3(64), 0, nullptr, out.p, true, true),
                      Contains("shared-memory race") && Contains("of static shared `words`"));
  DeviceFloats in(32), sum(1);
  in.set(std::vector<float>(32, 0.5f));
  simt::launch(shuffle_sum_kernel, dim3(1), dim3(32), 0, nullptr, in.p, sum.p);
  CHECK(sum.host()[0] == 16.0f);
}

TEST_CASE("simt checks: reading past the end of a device buffer is caught at the read, naming the kernel",
          "[simt]") {
  DeviceFloats in(100), out(100);
  in.set(std::vector<float>(100, 1.0f));
  REQUIRE_THROWS_WITH(simt::launch(read_overrun_kernel, dim3(1), dim3(128), 0, nullptr, 100, in.p, out.p),
                      Contains("out-of-bounds read of device memory") && Contains("read_overrun_kernel") &&
                          Contains("thread (100,0,0) read 4 bytes") &&
                          Contains("byte 400 of a 400-byte device buffer") && Contains("0 bytes past its end"));
  REQUIRE_THROWS_WITH(simt::launch(wild_read_kernel, dim3(1), dim3(1), 0, nullptr, 120, in.p, out.p),
                      Contains("out-of-bounds read") && Contains("wild_read_kernel") &&
                          Contains("80 bytes past its end"));
  // The emulator goes on: the same kernel within bounds is clean.
  simt::launch(read_overrun_kernel, dim3(1), dim3(100), 0, nullptr, 100, in.p, out.p);
  CHECK(out.host()[99] == 1.0f);
}

TEST_CASE("simt checks: writing past the end of a device buffer is caught at the write", "[simt]") {
  DeviceFloats out(100);
  REQUIRE_THROWS_WITH(simt::launch(write_overrun_kernel, dim3(1), dim3(128), 0, nullptr, 100, out.p),
                      Contains("out-of-bounds write of device memory") && Contains("write_overrun_kernel") &&
                          Contains("thread (100,0,0) wrote 4 bytes"));
}
