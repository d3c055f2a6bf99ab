#pragma once
// The emulator's device side: the CUDA keywords, builtin variables, vector types, barriers,
// warp collectives, atomics and fast-math intrinsics, as plain C++. Include simt.h, not this.
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <type_traits>

// ---- keywords -----------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define SIMT_EMULATOR 1

// ---- vector types ---------------------------------------------------------------------------
// In the emulator build's inline namespace (simt.h, SIMT_BUILD_NS) and re-exported to the global
// namespace, so their members never share a mangled name with CUDA's own dim3, float4, ...
namespace simt {
inline namespace emu_build {
struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};
struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};
struct __align__(8) float2 {
  float x, y;
};
struct __align__(16) float4 {
  float x, y, z, w;
};
struct __align__(8) int2 {
  int x, y;
};
struct __align__(16) int4 {
  int x, y, z, w;
};
struct __align__(8) uint2 {
  unsigned x, y;
};
struct __align__(16) uint4 {
  unsigned x, y, z, w;
};
struct __align__(16) double2 {
  double x, y;
};
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return {x, y, z}; }
inline double2 make_double2(double x, double y) { return {x, y}; }
}  // namespace emu_build
}  // namespace simt
using simt::emu_build::dim3, simt::emu_build::uint3, simt::emu_build::float2, simt::emu_build::float4,
    simt::emu_build::int2, simt::emu_build::int4, simt::emu_build::uint2, simt::emu_build::uint4,
    simt::emu_build::double2, simt::emu_build::make_float2, simt::emu_build::make_float4,
    simt::emu_build::make_int2, simt::emu_build::make_int4, simt::emu_build::make_uint3,
    simt::emu_build::make_double2;

// ---- builtin variables: per OS thread, switched by the scheduler with each fiber ----------
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

// ---- the runtime's entry points (simt_runtime.cpp) -----------------------------------------
namespace simt::detail {

enum class Collective : uint8_t { shfl_idx, shfl_up, shfl_down, shfl_xor, ballot, syncwarp };
enum class BarrierOp : uint8_t { sync, count, and_, or_ };

// Blocks the calling CUDA thread until the block's barrier is released; returns the reduced
// predicate for the _count/_and/_or forms.
int barrier(BarrierOp op, int pred, const std::source_location& where);
// Blocks the lane until all lanes of `mask` arrive; the last one computes every lane's result.
uint64_t warp_collective(Collective op, unsigned mask, uint64_t value, int param, int width,
                         const std::source_location& where);
// The dynamic shared memory of the running block (poisoned with 0xFF bytes per block).
void* dynamic_shared();

// Static shared memory is `static thread_local` storage; it is poisoned when the first thread
// of a block reaches its declaration, and counted against the 48 KiB a block may declare
// statically on any GPU. Epochs are process-unique per block run (never 0).
inline constexpr std::size_t kMaxStaticShared = 48 * 1024;
inline thread_local uint64_t block_epoch = 0;
inline thread_local std::size_t block_static_shared = 0;  // bytes declared by the running block
// Throws simt::Error naming the kernel (simt_block.cpp).
[[noreturn]] void static_shared_overflow(std::size_t bytes);
// Registers the variable with the block's shared-memory race check (simt_check.cpp).
void shared_declared(void* p, std::size_t bytes, const char* name);
inline void shared_first_touch(void* p, std::size_t bytes, const char* name, uint64_t& epoch) {
  if (epoch != block_epoch) {
    epoch = block_epoch;
    shared_declared(p, bytes, name);
    block_static_shared += bytes;
    if (block_static_shared > kMaxStaticShared) static_shared_overflow(block_static_shared);
    std::memset(p, 0xFF, bytes);
  }
}

template <class T>
uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffle of a type > 8 bytes");
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T>
T from_bits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

}  // namespace simt::detail

#define SIMT_SHARED(T, name, dims)                \
  static thread_local T name dims;                \
  static thread_local uint64_t name##_simt_epoch; \
  ::simt::detail::shared_first_touch(&name, sizeof(name), "static shared `" #name "`", name##_simt_epoch)
#define SIMT_DYNAMIC_SHARED(T, name) T* name = static_cast<T*>(::simt::detail::dynamic_shared())

// ---- barriers ------------------------------------------------------------------------------
using simt_loc = std::source_location;
inline void __syncthreads(simt_loc w = simt_loc::current()) {
  simt::detail::barrier(simt::detail::BarrierOp::sync, 0, w);
}
inline int __syncthreads_count(int p, simt_loc w = simt_loc::current()) {
  return simt::detail::barrier(simt::detail::BarrierOp::count, p != 0, w);
}
inline int __syncthreads_and(int p, simt_loc w = simt_loc::current()) {
  return simt::detail::barrier(simt::detail::BarrierOp::and_, p != 0, w);
}
inline int __syncthreads_or(int p, simt_loc w = simt_loc::current()) {
  return simt::detail::barrier(simt::detail::BarrierOp::or_, p != 0, w);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, simt_loc w = simt_loc::current()) {
  simt::detail::warp_collective(simt::detail::Collective::syncwarp, mask, 0, 0, warpSize, w);
}
// Blocks are run one per OS thread; a seq_cst fence makes global writes visible to the others.
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_signal_fence(std::memory_order_seq_cst); }

// ---- warp collectives ----------------------------------------------------------------------
#define SIMT_SHFL(name, kind)                                                                 \
  template <class T>                                                                          \
  inline T name(unsigned mask, T var, int p, int width = warpSize,                            \
                simt_loc w = simt_loc::current()) {                                           \
    return simt::detail::from_bits<T>(simt::detail::warp_collective(                          \
        simt::detail::Collective::kind, mask, simt::detail::to_bits(var), int(p), width, w)); \
  }
SIMT_SHFL(__shfl_sync, shfl_idx)
SIMT_SHFL(__shfl_up_sync, shfl_up)
SIMT_SHFL(__shfl_down_sync, shfl_down)
SIMT_SHFL(__shfl_xor_sync, shfl_xor)
#undef SIMT_SHFL

inline unsigned __ballot_sync(unsigned mask, int pred, simt_loc w = simt_loc::current()) {
  return unsigned(simt::detail::warp_collective(simt::detail::Collective::ballot, mask, pred != 0,
                                                0, warpSize, w));
}
inline int __any_sync(unsigned mask, int pred, simt_loc w = simt_loc::current()) {
  return __ballot_sync(mask, pred, w) != 0;
}
inline int __all_sync(unsigned mask, int pred, simt_loc w = simt_loc::current()) {
  // Lanes of `mask` outside the block do not take part (a partial last warp).
  unsigned voted = __ballot_sync(mask, !pred, w);
  return voted == 0;
}

// ---- atomics: real atomics, since blocks run concurrently on OS threads --------------------
template <class T>
inline T simt_atomic_rmw(T* p, T v, T (*f)(T, T)) {
  std::atomic_ref<T> a(*p);
  T old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, f(old, v), std::memory_order_relaxed)) {
  }
  return old;
}
inline int atomicAdd(int* p, int v) { return std::atomic_ref<int>(*p).fetch_add(v); }
inline unsigned atomicAdd(unsigned* p, unsigned v) {
  return std::atomic_ref<unsigned>(*p).fetch_add(v);
}
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  return std::atomic_ref<unsigned long long>(*p).fetch_add(v);
}
inline float atomicAdd(float* p, float v) {  // by CAS, as on the GPU before native float atomics
  return simt_atomic_rmw<float>(p, v, [](float a, float b) { return a + b; });
}
inline double atomicAdd(double* p, double v) {
  return simt_atomic_rmw<double>(p, v, [](double a, double b) { return a + b; });
}
inline int atomicSub(int* p, int v) { return std::atomic_ref<int>(*p).fetch_sub(v); }
inline unsigned atomicSub(unsigned* p, unsigned v) {
  return std::atomic_ref<unsigned>(*p).fetch_sub(v);
}
#define SIMT_ATOMIC_MINMAX(T)                                                \
  inline T atomicMax(T* p, T v) {                                            \
    return simt_atomic_rmw<T>(p, v, [](T a, T b) { return a < b ? b : a; }); \
  }                                                                          \
  inline T atomicMin(T* p, T v) {                                            \
    return simt_atomic_rmw<T>(p, v, [](T a, T b) { return b < a ? b : a; }); \
  }
SIMT_ATOMIC_MINMAX(int)
SIMT_ATOMIC_MINMAX(unsigned)
SIMT_ATOMIC_MINMAX(long long)
SIMT_ATOMIC_MINMAX(unsigned long long)
#undef SIMT_ATOMIC_MINMAX
template <class T>
inline T atomicExch(T* p, T v) {
  return std::atomic_ref<T>(*p).exchange(v);
}
template <class T>
inline T atomicCAS(T* p, T compare, T v) {
  std::atomic_ref<T>(*p).compare_exchange_strong(compare, v);
  return compare;  // the old value, whether or not it was swapped
}
inline int atomicAnd(int* p, int v) { return std::atomic_ref<int>(*p).fetch_and(v); }
inline int atomicOr(int* p, int v) { return std::atomic_ref<int>(*p).fetch_or(v); }
inline unsigned atomicAnd(unsigned* p, unsigned v) {
  return std::atomic_ref<unsigned>(*p).fetch_and(v);
}
inline unsigned atomicOr(unsigned* p, unsigned v) {
  return std::atomic_ref<unsigned>(*p).fetch_or(v);
}

// ---- math and bit intrinsics ---------------------------------------------------------------
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __log2f(float x) { return std::log2(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __tanf(float x) { return std::tan(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __frsqrt_rn(float x) { return 1.0f / std::sqrt(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline int __float2int_rn(float x) { return int(std::nearbyint(x)); }
inline int __float2int_rz(float x) { return int(x); }
inline float __int2float_rn(int x) { return float(x); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline int __popc(unsigned x) { return std::popcount(x); }
inline int __popcll(unsigned long long x) { return std::popcount(x); }
inline int __clz(unsigned x) { return std::countl_zero(x); }
inline int __ffs(unsigned x) { return x ? std::countr_zero(x) + 1 : 0; }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
template <class T>
inline T __ldg(const T* p) {
  return *p;
}
// CUDA's device min/max overloads.
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a < b ? b : a; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a < b ? b : a; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a < b ? b : a; }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a < b ? b : a; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
