// The SIMT emulator (kernels/simt): indices, shared memory, warp collectives, atomics, and the
// bug finding — schedules that expose a missing barrier, divergent barriers, deadlocks.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/simt/simt.h"

using Catch::Matchers::Contains;

// These tests run the kernels over std::vector buffers (host memory): the engine and the
// kernel-case registry pass emulated device memory, whose checks tests/test_simt_memory.cpp covers.
static const simt::testing::AllowHostPointers kAllowHostPointers;

namespace {

const char* const kSchedules[] = {"forward", "reverse", "random:1", "random:7"};

// ---- kernels -------------------------------------------------------------------------------

__global__ void index_kernel(uint32_t* out) {  // 8 words per thread
  unsigned bx = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  unsigned tx = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  unsigned g = bx * (blockDim.x * blockDim.y * blockDim.z) + tx;
  uint32_t* o = out + 8 * g;
  o[0] = threadIdx.x, o[1] = threadIdx.y, o[2] = threadIdx.z;
  o[3] = blockIdx.x, o[4] = blockIdx.y, o[5] = blockIdx.z;
  o[6] = blockDim.x * 1000 + blockDim.y * 100 + blockDim.z;
  o[7] = gridDim.x * 1000 + gridDim.y * 100 + gridDim.z;
}

// Block sums of x (n) into out (gridDim.x): a shared-memory tree.
__global__ void block_sum_kernel(const float* x, float* out, int n) {
  SIMT_SHARED(float, s, [256]);
  int i = blockIdx.x * 256 + threadIdx.x;
  s[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  for (int stride = 128; stride > 0; stride /= 2) {
    if (int(threadIdx.x) < stride) s[threadIdx.x] += s[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = s[0];
}

// Reads shared memory before writing it: the emulator poisons it with 0xFF bytes per block.
__global__ void poison_kernel(uint32_t* out) {
  SIMT_SHARED(uint32_t, st, [64]);
  SIMT_DYNAMIC_SHARED(uint32_t, dyn);
  out[blockIdx.x * 4 + 0] = st[threadIdx.x];
  out[blockIdx.x * 4 + 1] = dyn[threadIdx.x];
  __syncthreads();
  st[threadIdx.x] = 7;
  dyn[threadIdx.x] = 9;
  __syncthreads();
  out[blockIdx.x * 4 + 2] = st[63 - threadIdx.x];
  out[blockIdx.x * 4 + 3] = dyn[63 - threadIdx.x];
}

// Per warp: a xor butterfly sum, a down-shift sum, a broadcast, an inclusive scan (up) and
// a 16-wide segmented xor sum, over float, double and int.
__global__ void shuffle_kernel(const float* x, float* out) {  // out: 7 per thread
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  int lane = threadIdx.x % 32;
  float v = x[t];
  float bfly = v;
  for (int m = 16; m > 0; m /= 2) bfly += __shfl_xor_sync(0xffffffffu, bfly, m);
  float down = v;
  for (int d = 16; d > 0; d /= 2) down += __shfl_down_sync(0xffffffffu, down, d);
  float bcast = __shfl_sync(0xffffffffu, v, 5);
  float scan = v;
  for (int d = 1; d < 32; d *= 2) {
    float o = __shfl_up_sync(0xffffffffu, scan, d);
    if (lane >= d) scan += o;
  }
  float seg = v;
  for (int m = 8; m > 0; m /= 2) seg += __shfl_xor_sync(0xffffffffu, seg, m, 16);
  double dv = double(v);
  for (int m = 16; m > 0; m /= 2) dv += __shfl_xor_sync(0xffffffffu, dv, m);
  int iv = lane;
  for (int m = 16; m > 0; m /= 2) iv += __shfl_xor_sync(0xffffffffu, iv, m);
  float* o = out + 7 * t;
  o[0] = bfly, o[1] = down, o[2] = bcast, o[3] = scan, o[4] = seg, o[5] = float(dv),
  o[6] = float(iv);
}

__global__ void vote_kernel(const int* pred, unsigned* out) {  // out: 3 per warp
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  unsigned b = __ballot_sync(0xffffffffu, pred[t]);
  int any = __any_sync(0xffffffffu, pred[t]);
  int all = __all_sync(0xffffffffu, pred[t]);
  int count = __syncthreads_count(pred[t]);
  if (threadIdx.x % 32 == 0) {
    unsigned* o = out + 4 * (t / 32);
    o[0] = b, o[1] = unsigned(any), o[2] = unsigned(all), o[3] = unsigned(count);
  }
}

// A block of 48 threads: warp 1 has 16 lanes. Full-mask collectives take the lanes that exist.
__global__ void partial_warp_kernel(unsigned* out) {  // out: 4 per thread
  int t = threadIdx.x;
  unsigned v = unsigned(t);
  for (int m = 8; m > 0; m /= 2) v += __shfl_xor_sync(0xffffffffu, v, m);
  out[4 * t + 0] = v;
  out[4 * t + 1] = __ballot_sync(0xffffffffu, t % 2);
  out[4 * t + 2] = unsigned(__syncthreads_and(t < 47));
  out[4 * t + 3] = unsigned(__syncthreads_or(t == 47));
}

__global__ void atomic_kernel(float* fsum, int* isum, int* imax, unsigned long long* usum,
                              double* dsum, int* cas_counter) {
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(fsum, 1.0f);
  atomicAdd(isum, t);
  atomicMax(imax, (t * 7919) % 10007);
  atomicAdd(usum, 1ull << 33);
  atomicAdd(dsum, 0.5);
  int old = *cas_counter, seen;  // a CAS loop, as kernels write their own atomics
  while ((seen = atomicCAS(cas_counter, old, old + 1)) != old) old = seen;
}

// out[t] = in[n - 1 - t] within the block, through shared memory.
template <bool kSync>
__global__ void reverse_kernel(const float* in, float* out) {
  SIMT_SHARED(float, s, [128]);
  int base = blockIdx.x * 128;
  s[threadIdx.x] = in[base + threadIdx.x];
  if (kSync) __syncthreads();
  out[base + threadIdx.x] = s[127 - threadIdx.x];
}

// Sum over 4 tiles of s[(t + 1) % 64] — the write-after-read hazard of a tiled loop when the
// second barrier is missing.
template <bool kSecondSync>
__global__ void tiled_kernel(const float* in, float* out) {
  SIMT_SHARED(float, s, [64]);
  float acc = 0.0f;
  for (int tile = 0; tile < 4; ++tile) {
    s[threadIdx.x] = in[tile * 64 + threadIdx.x];
    __syncthreads();
    acc += s[(threadIdx.x + 1) % 64];
    if (kSecondSync) __syncthreads();
  }
  out[threadIdx.x] = acc;
}

int g_site_a = 0, g_site_b = 0;

__global__ void divergent_kernel(float* out) {
  if (threadIdx.x < 32) {
    g_site_a = __LINE__ + 1;
    __syncthreads();
  } else {
    g_site_b = __LINE__ + 1;
    __syncthreads();
  }
  out[threadIdx.x] = 1.0f;
}

__global__ void early_exit_kernel(float* out) {
  if (threadIdx.x >= 32) return;
  g_site_a = __LINE__ + 1;
  __syncthreads();
  out[threadIdx.x] = 1.0f;
}

__global__ void warp_deadlock_kernel(float* out) {
  float v = 1.0f;
  if (threadIdx.x % 32 != 3) v = __shfl_xor_sync(0xffffffffu, v, 1);
  out[threadIdx.x] = v;
}

__global__ void throwing_kernel(float* out) {
  if (threadIdx.x == 5) throw std::runtime_error("kernel says no");
  out[threadIdx.x] = 1.0f;
}

}  // namespace

TEST_CASE("simt: builtin indices over a 3-d grid of 3-d blocks", "[simt]") {
  const dim3 grid(3, 2, 2), block(8, 4, 2);
  const unsigned nthreads = 3 * 2 * 2 * 8 * 4 * 2;
  for (const char* sched : kSchedules) {
    simt::ScopedSchedule s(sched);
    std::vector<uint32_t> out(8 * nthreads, 0xdeadbeef);
    simt::launch(index_kernel, grid, block, 0, nullptr, out.data());
    unsigned g = 0;
    for (unsigned bz = 0; bz < 2; ++bz)
      for (unsigned by = 0; by < 2; ++by)
        for (unsigned bx = 0; bx < 3; ++bx)
          for (unsigned tz = 0; tz < 2; ++tz)
            for (unsigned ty = 0; ty < 4; ++ty)
              for (unsigned tx = 0; tx < 8; ++tx, ++g) {
                const uint32_t want[8] = {
                    tx, ty, tz, bx, by, bz, 8 * 1000 + 4 * 100 + 2, 3 * 1000 + 2 * 100 + 2};
                INFO("schedule " << sched << " thread " << g);
                REQUIRE(std::memcmp(&out[8 * g], want, sizeof want) == 0);
              }
  }
}

TEST_CASE("simt: shared-memory tree reduction per block", "[simt]") {
  const int n = 1000;  // ragged: the last block is partial
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = float((i * 37) % 101) * 0.25f - 7.0f;
  for (const char* sched : kSchedules) {
    simt::ScopedSchedule s(sched);
    std::vector<float> out(4, NAN);
    simt::launch(block_sum_kernel, dim3(4), dim3(256), 0, nullptr, x.data(), out.data(), n);
    for (int b = 0; b < 4; ++b) {
      double ref = 0;
      for (int i = b * 256; i < std::min(n, b * 256 + 256); ++i) ref += x[i];
      INFO("schedule " << sched << " block " << b);
      REQUIRE(std::abs(out[b] - ref) <= 1e-3 + 1e-5 * std::abs(ref));
    }
  }
}

TEST_CASE("simt: shared memory is poisoned per block, static and dynamic", "[simt]") {
  std::vector<uint32_t> out(4 * 3, 0);
  for (const char* sched : {"forward", "random:3"}) {
    simt::ScopedSchedule s(sched);
    simt::launch(poison_kernel, dim3(3), dim3(64), 64 * sizeof(uint32_t), nullptr, out.data());
    for (int b = 0; b < 3; ++b) {
      INFO("schedule " << sched << " block " << b);
      CHECK(out[b * 4 + 0] == 0xffffffffu);  // static: written to 7 by the previous block
      CHECK(out[b * 4 + 1] == 0xffffffffu);
      CHECK(out[b * 4 + 2] == 7u);
      CHECK(out[b * 4 + 3] == 9u);
    }
  }
}

TEST_CASE("simt: warp shuffles (idx, up, down, xor, widths, types)", "[simt]") {
  const int nthreads = 128;
  std::vector<float> x(nthreads);
  for (int i = 0; i < nthreads; ++i) x[i] = float((i * 13) % 17) - 8.0f;  // exact sums
  for (const char* sched : kSchedules) {
    simt::ScopedSchedule s(sched);
    std::vector<float> out(7 * nthreads, NAN);
    simt::launch(shuffle_kernel, dim3(2), dim3(64), 0, nullptr, x.data(), out.data());
    for (int t = 0; t < nthreads; ++t) {
      int w0 = t / 32 * 32, lane = t % 32, s0 = t / 16 * 16;
      float warp_sum = 0, scan = 0, seg = 0;
      for (int l = 0; l < 32; ++l) warp_sum += x[w0 + l];
      for (int l = 0; l <= lane; ++l) scan += x[w0 + l];
      for (int l = 0; l < 16; ++l) seg += x[s0 + l];
      float down = 0;  // lane l sums lanes l, l+1, ... while inside the warp, per step
      {
        std::vector<float> v(x.begin() + w0, x.begin() + w0 + 32);
        for (int d = 16; d > 0; d /= 2) {
          std::vector<float> nv = v;
          for (int l = 0; l < 32; ++l) nv[l] = v[l] + (l + d < 32 ? v[l + d] : v[l]);
          v = nv;
        }
        down = v[lane];
      }
      const float* o = &out[7 * t];
      INFO("schedule " << sched << " thread " << t);
      CHECK(o[0] == warp_sum);
      CHECK(o[1] == down);
      CHECK(o[2] == x[w0 + 5]);
      CHECK(o[3] == scan);
      CHECK(o[4] == seg);
      CHECK(o[5] == warp_sum);
      CHECK(o[6] == float(31 * 32 / 2));
    }
  }
}

TEST_CASE("simt: ballot, any, all and __syncthreads_count", "[simt]") {
  const int nthreads = 128;
  std::vector<int> pred(nthreads, 0);
  for (int i = 0; i < 32; ++i) pred[i] = (i % 3 == 0);  // warp 0: some
  for (int i = 64; i < 96; ++i) pred[i] = 1;            // warp 2: all; warps 1, 3: none
  simt::ScopedSchedule s("random:5");
  std::vector<unsigned> out(4 * 4, 0xdeadbeef);
  simt::launch(vote_kernel, dim3(1), dim3(nthreads), 0, nullptr, pred.data(), out.data());
  unsigned some = 0;
  for (int i = 0; i < 32; ++i) some |= unsigned(i % 3 == 0) << i;
  const unsigned want[4][4] = {
      {some, 1, 0, 43}, {0, 0, 0, 43}, {0xffffffffu, 1, 1, 43}, {0, 0, 0, 43}};
  for (int w = 0; w < 4; ++w)
    for (int k = 0; k < 4; ++k) {
      INFO("warp " << w << " field " << k);
      CHECK(out[4 * w + k] == want[w][k]);
    }
}

TEST_CASE("simt: a partial last warp", "[simt]") {
  for (const char* sched : kSchedules) {
    simt::ScopedSchedule s(sched);
    std::vector<unsigned> out(4 * 48, 0xdeadbeef);
    simt::launch(partial_warp_kernel, dim3(1), dim3(48), 0, nullptr, out.data());
    for (unsigned t = 0; t < 48; ++t) {
      unsigned base = t / 16 * 16, sum = 0;
      for (unsigned l = 0; l < 16; ++l) sum += base + l;
      INFO("schedule " << sched << " thread " << t);
      CHECK(out[4 * t + 0] == sum);
      CHECK(out[4 * t + 1] == (t < 32 ? 0xaaaaaaaau : 0xaaaau));
      CHECK(out[4 * t + 2] == 0u);
      CHECK(out[4 * t + 3] == 1u);
    }
  }
}

TEST_CASE("simt: atomics across concurrently running blocks", "[simt]") {
  const int blocks = 64, threads = 256, n = blocks * threads;
  for (const char* sched : {"forward", "random:2"}) {
    simt::ScopedSchedule s(sched);
    float fsum = 0;
    int isum = 0, imax = -1, cas = 0;
    unsigned long long usum = 0;
    double dsum = 0;
    simt::launch(atomic_kernel, dim3(blocks), dim3(threads), 0, nullptr, &fsum, &isum, &imax, &usum,
                 &dsum, &cas);
    int want_max = 0;
    for (int t = 0; t < n; ++t) want_max = std::max(want_max, (t * 7919) % 10007);
    CHECK(fsum == float(n));  // exact: integers below 2^24
    CHECK(isum == n * (n - 1) / 2);
    CHECK(imax == want_max);
    CHECK(usum == (unsigned long long)n << 33);
    CHECK(dsum == 0.5 * n);
    CHECK(cas == n);
  }
}

TEST_CASE("simt: a missing __syncthreads is caught by the schedules", "[simt]") {
  const int blocks = 3, n = blocks * 128;
  std::vector<float> in(n);
  for (int i = 0; i < n; ++i) in[i] = float(i);
  std::vector<float> want(n);
  for (int i = 0; i < n; ++i) want[i] = in[i / 128 * 128 + 127 - i % 128];
  std::vector<float> tin(256);
  for (int i = 0; i < 256; ++i) tin[i] = float(i * i % 97);
  std::vector<float> twant(64, 0.0f);
  for (int t = 0; t < 64; ++t)
    for (int tile = 0; tile < 4; ++tile) twant[t] += tin[tile * 64 + (t + 1) % 64];

  for (const char* sched : kSchedules) {  // the correct kernels pass under every schedule
    simt::ScopedSchedule s(sched);
    std::vector<float> out(n, NAN), tout(64, NAN);
    simt::launch(reverse_kernel<true>, dim3(blocks), dim3(128), 0, nullptr, in.data(), out.data());
    simt::launch(tiled_kernel<true>, dim3(1), dim3(64), 0, nullptr, tin.data(), tout.data());
    INFO("schedule " << sched);
    CHECK(out == want);
    CHECK(tout == twant);
  }
  int caught = 0, tcaught = 0;
  for (const char* sched : {"reverse", "random:1"}) {  // the buggy ones fail under one of these
    simt::ScopedSchedule s(sched);
    std::vector<float> out(n, NAN), tout(64, NAN);
    simt::launch(reverse_kernel<false>, dim3(blocks), dim3(128), 0, nullptr, in.data(), out.data());
    simt::launch(tiled_kernel<false>, dim3(1), dim3(64), 0, nullptr, tin.data(), tout.data());
    caught += std::memcmp(out.data(), want.data(), n * sizeof(float)) != 0;
    tcaught += std::memcmp(tout.data(), twant.data(), 64 * sizeof(float)) != 0;
  }
  CHECK(caught > 0);
  CHECK(tcaught > 0);
}

TEST_CASE("simt: a divergent __syncthreads names both sites", "[simt]") {
  std::vector<float> out(64);
  for (const char* sched : {"forward", "random:1"}) {
    simt::ScopedSchedule s(sched);
    REQUIRE_THROWS_AS(simt::launch(divergent_kernel, dim3(1), dim3(64), 0, nullptr, out.data()),
                      simt::Error);
    const std::string a = "test_simt.cpp:" + std::to_string(g_site_a);
    const std::string b = "test_simt.cpp:" + std::to_string(g_site_b);
    REQUIRE_THROWS_WITH(simt::launch(divergent_kernel, dim3(1), dim3(64), 0, nullptr, out.data()),
                        Contains("divergent __syncthreads") && Contains(a) && Contains(b) &&
                            Contains("divergent_kernel"));
  }
}

TEST_CASE("simt: deadlocks name the kernel", "[simt]") {
  std::vector<float> out(64);
  for (const char* sched : {"forward", "reverse"}) {
    simt::ScopedSchedule s(sched);
    // Threads 32.. return early while 0..31 wait at the barrier.
    REQUIRE_THROWS_WITH(simt::launch(early_exit_kernel, dim3(2), dim3(64), 0, nullptr, out.data()),
                        Contains("deadlock") && Contains("early_exit_kernel") &&
                            Contains("test_simt.cpp:" + std::to_string(g_site_a)) &&
                            Contains("exited"));
    // Lane 3 of each warp skips a full-mask shuffle.
    REQUIRE_THROWS_WITH(
        simt::launch(warp_deadlock_kernel, dim3(1), dim3(64), 0, nullptr, out.data()),
        Contains("deadlock") && Contains("warp_deadlock_kernel") && Contains("__shfl_xor_sync") &&
            Contains("lane 3 has exited"));
  }
}

TEST_CASE("simt: launch errors reach the host, and the emulator recovers", "[simt]") {
  std::vector<float> out(64, 0.0f);
  REQUIRE_THROWS_WITH(simt::launch(throwing_kernel, dim3(1), dim3(2048), 0, nullptr, out.data()),
                      Contains("invalid launch configuration") && Contains("test_simt.cpp"));
  REQUIRE_THROWS_WITH(simt::launch(throwing_kernel, dim3(4), dim3(64), 0, nullptr, out.data()),
                      Contains("kernel says no") && Contains("(5,0,0)"));
  REQUIRE_THROWS_WITH(simt::ScopedSchedule("sideways"), Contains("bad schedule"));
  CHECK(simt::parse_schedule("random:42").seed == 42);
  // After errors left fibers suspended mid-kernel, launches still work.
  std::vector<float> x(1000, 1.0f), sums(4, 0.0f);
  simt::launch(block_sum_kernel, dim3(4), dim3(256), 0, nullptr, x.data(), sums.data(), 1000);
  CHECK(sums == std::vector<float>{256, 256, 256, 232});
}
