#pragma once
// Emulated device memory (docs/simt.md): the simt device's own arena, so that a host/device
// mix-up fails on the emulator as it would on a GPU.
//   - Allocations come from one reserved address range, never from the host heap; each is
//     poisoned (0xFF bytes: NaN as float) when handed out, and followed by a guard zone of
//     kGuardByte that is checked when it is freed and at the end of every launch.
//   - Outside a launch or an explicit copy the arena is inaccessible (PROT_NONE): host code that
//     dereferences device memory stops with "simt: host code accessed emulated device memory".
//     SIMT_PROTECT=0 turns this off (e.g. under a debugger).
//   - A kernel launch rejects a pointer argument outside the arena, naming the kernel and the
//     argument; copies reject a device-side range that is not inside one live allocation.
// Plain host code; no CUDA keywords (include it from engine code).
#include <cstddef>
#include <cstdint>
#include <string>

namespace simt {

inline constexpr unsigned char kPoisonByte = 0xFF;
inline constexpr unsigned char kGuardByte = 0xFB;

// cudaMalloc / cudaFree. Throws simt::Error when the arena is exhausted (SIMT_ARENA_GIB, default
// 16, of address space). device_free(nullptr) does nothing; a pointer that is not a live
// allocation or an overwritten guard zone throws simt::Error.
void* device_malloc(std::size_t bytes);
void device_free(void* p);
// A live block handed out again at a new size (a caching allocator's hit): poisons [0, bytes)
// and moves the guard zone to start at `bytes` (at most the block's first size).
void device_reuse(void* p, std::size_t bytes);

enum class CopyKind { host_to_device, device_to_host, device_to_device };
// cudaMemcpy: the device side(s) must lie inside one live allocation (simt::Error otherwise,
// naming the side and the range).
void memcpy(void* dst, const void* src, std::size_t bytes, CopyKind kind);
// cudaMemset on device memory.
void memset(void* dst, int value, std::size_t bytes);

// Whether p lies inside the arena (a live allocation or not).
bool in_arena(const void* p) noexcept;
// Bytes handed out and not freed; allocations alive.
std::size_t live_bytes() noexcept;
std::size_t live_allocations() noexcept;

namespace detail {
// While one lives on any thread, the arena is accessible (launches, copies, checks); nests.
class ArenaAccess {
 public:
  ArenaAccess();
  ~ArenaAccess();
  ArenaAccess(const ArenaAccess&) = delete;
  ArenaAccess& operator=(const ArenaAccess&) = delete;
};
// Installs the SIGSEGV handler that reports host accesses to the arena again, ahead of any
// installed since the arena was created (e.g. a test framework's); it chains to that one.
void install_fault_handler();
// "" when a kernel may take p as a pointer argument (null or inside a live allocation), else
// what is wrong with it.
std::string kernel_pointer_problem(const void* p);
// "" when every live allocation's guard zone is intact, else which one was written (its guard
// is then restored, so it is reported once).
std::string guard_problem();
// For the access checks of instrumented kernel code (simt_check.cpp): the reserved address
// range ([lo, lo + size), 0 bytes before the first allocation); whether [p, p + bytes) lies in
// one live allocation, which is then [*lo, *hi); and what an access outside one touched.
void arena_range(uintptr_t& lo, std::size_t& size) noexcept;
bool live_range(const void* p, std::size_t bytes, uintptr_t& lo, uintptr_t& hi);
std::string describe_bad_access(const void* p, std::size_t bytes);
// Whether p lies in the part of the arena that is mapped (accessible during a launch).
bool arena_mapped(const void* p);
}  // namespace detail

namespace testing {
// While one lives, kernel launches and the device side of copies also accept host pointers: for
// the kernel unit tests that run a launcher over std::vector buffers. Everything else (the engine, the kernel-case registry)
// passes device memory.
class AllowHostPointers {
 public:
  AllowHostPointers();
  ~AllowHostPointers();
  AllowHostPointers(const AllowHostPointers&) = delete;
  AllowHostPointers& operator=(const AllowHostPointers&) = delete;
};
}  // namespace testing

}  // namespace simt
