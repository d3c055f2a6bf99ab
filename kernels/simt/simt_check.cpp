// The access checks of instrumented kernel code (simt_check.h, docs/simt.md): the
// ThreadSanitizer entry points GCC's -fsanitize=thread instrumentation calls, defined here
// instead of by libtsan, and the per-block state they check against.
#include "simt_check.h"

#include <dlfcn.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "simt_internal.h"
#include "simt_memory.h"

namespace simt::detail {
namespace {

// What one byte of shared memory saw in the current barrier phase. Phases are numbered per OS
// thread and never reused (a new block starts a new one), so stale entries never match.
// `*_sync` is the thread's __syncwarp count at the access (Checker::syncs).
struct Shadow {
  uint32_t w_phase = 0, w_sync = 0;  // the last write
  uint32_t r_phase = 0, r_sync = 0;  // reads in r_phase; r_sync: at the latest one
  uint32_t r_warps = 0;              // warps that read in r_phase (bit per warp)
  uint16_t w_thread = 0, r_first = 0, r_last = 0;
};

struct Region {  // shared memory of the running block
  uintptr_t lo, hi;
  const char* name;  // the SIMT_SHARED variable, or "dynamic shared memory"
  Shadow* shadow;
};

struct LaneSync {  // the last __syncwarp a thread took part in
  uint32_t at = 0, mask = 0;
};

struct Checker {
  const void* kernel = nullptr;  // the running kernel, for a report that cannot wait
  unsigned current = kNoThread;
  uint32_t phase = 0;
  uint32_t syncs = 0;  // __syncwarps completed in this block
  LaneSync lane_sync[1024];
  std::vector<Region> regions;
  std::map<uintptr_t, std::vector<Shadow>> shadows;  // by region start, kept from block to block
  uintptr_t arena_lo = 0;
  std::size_t arena_size = 0;
  struct Range {
    uintptr_t lo = 0, hi = 0;
  } live[8];  // live allocations this block touched, most recent first
  CheckProblem problem;

  void new_phase() {
    if (++phase == 0) {  // wrapped: forget everything
      for (auto& [start, s] : shadows) std::fill(s.begin(), s.end(), Shadow{});
      phase = 1;
    }
  }
  Shadow* shadow_for(uintptr_t lo, std::size_t bytes) {
    std::vector<Shadow>& s = shadows[lo];
    if (s.size() < bytes) s.resize(bytes);
    return s.data();
  }
};

thread_local Checker* t_checker = nullptr;  // set while a block runs with checks on

bool env_enabled() {
  static const bool on = [] {
    const char* s = std::getenv("SIMT_CHECK");
    return !(s && std::string(s) == "0");
  }();
  return on;
}

std::string thread_str(unsigned linear) {
  return dim_str(linear % blockDim.x, linear / blockDim.x % blockDim.y, linear / (blockDim.x * blockDim.y));
}

// "exe+0x1234" for the code address of an access (addr2line -f -C -e exe 0x1234 names the line).
std::string code_str(const void* pc) {
  Dl_info info{};
  if (!dladdr(pc, &info) || !info.dli_fname) return "?";
  char buf[32];
  std::snprintf(buf, sizeof buf, "+0x%zx",
                std::size_t(static_cast<const char*>(pc) - static_cast<const char*>(info.dli_fbase)));
  return std::string(info.dli_fname) + buf;
}

void report(Checker& c, const char* kind, std::string detail) {
  if (c.problem.kind.empty()) c.problem = {kind, std::move(detail)};
}

// Whether thread b's accesses from now on are ordered after thread a's access made when
// a had passed `a_sync` __syncwarps: a __syncwarp both took part in came in between.
bool warp_ordered(const Checker& c, unsigned a, uint32_t a_sync, unsigned b) {
  const LaneSync& s = c.lane_sync[b];
  return a / 32 == b / 32 && s.at > a_sync && (s.mask >> (a % 32) & 1u);
}

void device_access(Checker& c, uintptr_t a, std::size_t n, bool write, const void* pc) {
  for (auto& r : c.live)
    if (a >= r.lo && a + n <= r.hi) return;
  uintptr_t lo, hi;
  if (live_range(reinterpret_cast<void*>(a), n, lo, hi)) {
    std::move_backward(c.live, c.live + 7, c.live + 8);
    c.live[0] = {lo, hi};
    return;
  }
  std::string detail = "thread " + thread_str(c.current) + (write ? " wrote " : " read ") +
                       describe_bad_access(reinterpret_cast<void*>(a), n) + ", at " + code_str(pc);
  const char* kind = write ? "out-of-bounds write of device memory" : "out-of-bounds read of device memory";
  if (!arena_mapped(reinterpret_cast<void*>(a))) {
    // The access itself will fault as soon as this returns: say what it is first.
    std::fprintf(stderr, "simt: %s in kernel `%s`: %s\n", kind, kernel_name(c.kernel).c_str(), detail.c_str());
    std::abort();
  }
  report(c, kind, std::move(detail));
}

void race(Checker& c, const Region& r, uintptr_t a, const char* first, unsigned other, const char* second,
          const void* pc) {
  report(c, "shared-memory race",
         "thread " + thread_str(c.current) + " " + second + " byte " + std::to_string(a - r.lo) + " of " + r.name +
             " (at " + code_str(pc) + ") that thread " + thread_str(other) + " " + first +
             " in the same barrier phase (no __syncthreads between them)");
}

void shared_access(Checker& c, const Region& r, uintptr_t a, std::size_t n, bool write, const void* pc) {
  const unsigned b = c.current, bwarp = 1u << (b / 32);
  const uint32_t P = c.phase;
  for (uintptr_t x = a; x < a + n && x < r.hi; ++x) {
    Shadow& s = r.shadow[x - r.lo];
    if (s.w_phase == P && s.w_thread != b && !warp_ordered(c, s.w_thread, s.w_sync, b))
      return race(c, r, x, "wrote", s.w_thread, write ? "wrote" : "read", pc);
    if (write) {
      if (s.r_phase == P) {
        if (s.r_warps & ~bwarp) {  // a reader in another warp: only __syncthreads orders warps
          unsigned other = s.r_first / 32 != b / 32 ? s.r_first : s.r_last;
          return race(c, r, x, "read", other, "wrote", pc);
        }
        for (unsigned other : {s.r_first, s.r_last})
          if (other != b && !warp_ordered(c, other, s.r_sync, b)) return race(c, r, x, "read", other, "wrote", pc);
      }
      s.w_phase = P;
      s.w_sync = c.syncs;
      s.w_thread = uint16_t(b);
    } else {
      if (s.r_phase != P) {
        s.r_phase = P;
        s.r_warps = 0;
        s.r_first = uint16_t(b);
      }
      s.r_warps |= bwarp;
      s.r_last = uint16_t(b);
      s.r_sync = c.syncs;
    }
  }
}

// The hooks' common path: cheap when no block is being checked on this OS thread.
inline void on_access(const void* p, std::size_t n, bool write, const void* pc) {
  Checker* c = t_checker;
  if (!c || c->current == kNoThread || !c->problem.kind.empty()) return;
  const auto a = reinterpret_cast<uintptr_t>(p);
  if (a - c->arena_lo < c->arena_size) return device_access(*c, a, n, write, pc);
  for (const Region& r : c->regions)
    if (a + n > r.lo && a < r.hi) return shared_access(*c, r, std::max(a, r.lo), n - (std::max(a, r.lo) - a), write, pc);
}

Checker& checker() {
  thread_local Checker c;
  return c;
}

}  // namespace

bool checks_enabled() { return env_enabled(); }

void check_block_begin(const void* kernel, void* dynamic_smem, std::size_t smem_bytes, unsigned nthreads) {
  if (!env_enabled()) return;
  Checker& c = checker();
  c.kernel = kernel;
  c.current = kNoThread;
  c.new_phase();
  c.syncs = 0;
  std::fill(c.lane_sync, c.lane_sync + nthreads, LaneSync{});
  c.regions.clear();
  if (smem_bytes) {
    const auto lo = reinterpret_cast<uintptr_t>(dynamic_smem);
    c.regions.push_back({lo, lo + smem_bytes, "dynamic shared memory", c.shadow_for(lo, smem_bytes)});
  }
  arena_range(c.arena_lo, c.arena_size);
  std::fill(std::begin(c.live), std::end(c.live), Checker::Range{});
  c.problem = {};
  t_checker = &c;
}

void check_block_end() { t_checker = nullptr; }

void check_thread(unsigned linear) {
  if (Checker* c = t_checker) c->current = linear;
}

void check_barrier_released() {
  if (Checker* c = t_checker) c->new_phase();
}

void check_syncwarp(unsigned warp, unsigned mask) {
  Checker* c = t_checker;
  if (!c) return;
  ++c->syncs;
  for (unsigned l = 0; l < 32; ++l)
    if (mask >> l & 1u) c->lane_sync[warp * 32 + l] = {c->syncs, mask};
}

CheckProblem check_problem() {
  Checker* c = t_checker;
  return c ? c->problem : CheckProblem{};
}

void shared_declared(void* p, std::size_t bytes, const char* name) {
  Checker* c = t_checker;
  if (!c) return;
  const auto lo = reinterpret_cast<uintptr_t>(p);
  c->regions.push_back({lo, lo + bytes, name, c->shadow_for(lo, bytes)});
}

}  // namespace simt::detail

// ---- the ThreadSanitizer entry points (GCC's -fsanitize=thread instrumentation) -----------
// Compiled without the instrumentation itself. Atomics are performed (sequentially
// consistent, whatever order is asked) and not recorded: atomic updates are not races.
using simt::detail::on_access;
#define SIMT_TSAN_ACCESS(n)                                                                           \
  extern "C" void __tsan_read##n(void* p) { on_access(p, n, false, __builtin_return_address(0)); }    \
  extern "C" void __tsan_write##n(void* p) { on_access(p, n, true, __builtin_return_address(0)); }    \
  extern "C" void __tsan_unaligned_read##n(void* p) { on_access(p, n, false, __builtin_return_address(0)); } \
  extern "C" void __tsan_unaligned_write##n(void* p) { on_access(p, n, true, __builtin_return_address(0)); }
SIMT_TSAN_ACCESS(1)
SIMT_TSAN_ACCESS(2)
SIMT_TSAN_ACCESS(4)
SIMT_TSAN_ACCESS(8)
SIMT_TSAN_ACCESS(16)
#undef SIMT_TSAN_ACCESS
extern "C" void __tsan_read_range(void* p, unsigned long n) { on_access(p, n, false, __builtin_return_address(0)); }
extern "C" void __tsan_write_range(void* p, unsigned long n) { on_access(p, n, true, __builtin_return_address(0)); }
extern "C" void __tsan_init() {}
extern "C" void __tsan_vptr_update(void**, void*) {}  // a virtual table pointer store: not kernel data
extern "C" void __tsan_vptr_read(void**) {}
extern "C" void __tsan_atomic_thread_fence(int) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
extern "C" void __tsan_atomic_signal_fence(int) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }

#define SIMT_TSAN_ATOMIC(bits, T)                                                                          \
  extern "C" T __tsan_atomic##bits##_load(const volatile T* a, int) { return __atomic_load_n(a, __ATOMIC_SEQ_CST); } \
  extern "C" void __tsan_atomic##bits##_store(volatile T* a, T v, int) { __atomic_store_n(a, v, __ATOMIC_SEQ_CST); } \
  extern "C" T __tsan_atomic##bits##_exchange(volatile T* a, T v, int) {                                 \
    return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);                                                  \
  }                                                                                                      \
  extern "C" T __tsan_atomic##bits##_fetch_add(volatile T* a, T v, int) { return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST); } \
  extern "C" T __tsan_atomic##bits##_fetch_sub(volatile T* a, T v, int) { return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST); } \
  extern "C" T __tsan_atomic##bits##_fetch_and(volatile T* a, T v, int) { return __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST); } \
  extern "C" T __tsan_atomic##bits##_fetch_or(volatile T* a, T v, int) { return __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST); }   \
  extern "C" T __tsan_atomic##bits##_fetch_xor(volatile T* a, T v, int) { return __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST); } \
  extern "C" T __tsan_atomic##bits##_fetch_nand(volatile T* a, T v, int) {                               \
    return __atomic_fetch_nand(a, v, __ATOMIC_SEQ_CST);                                                  \
  }                                                                                                      \
  extern "C" int __tsan_atomic##bits##_compare_exchange_strong(volatile T* a, T* expected, T v, int, int) { \
    return __atomic_compare_exchange_n(a, expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);        \
  }                                                                                                      \
  extern "C" int __tsan_atomic##bits##_compare_exchange_weak(volatile T* a, T* expected, T v, int, int) { \
    return __atomic_compare_exchange_n(a, expected, v, true, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);         \
  }                                                                                                      \
  extern "C" T __tsan_atomic##bits##_compare_exchange_val(volatile T* a, T expected, T v, int, int) {    \
    __atomic_compare_exchange_n(a, &expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);              \
    return expected;                                                                                     \
  }
SIMT_TSAN_ATOMIC(8, uint8_t)
SIMT_TSAN_ATOMIC(16, uint16_t)
SIMT_TSAN_ATOMIC(32, uint32_t)
SIMT_TSAN_ATOMIC(64, uint64_t)
#undef SIMT_TSAN_ATOMIC
