// The simt device's memory arena (simt_memory.h, docs/simt.md): one reserved address range,
// blocks aligned like cudaMalloc's (256 bytes) with a guard zone after each, a best-fit free
// list (no coalescing: the engine's caching allocator above reuses blocks by size), and the
// whole used range PROT_NONE while no launch or copy is running.
#include "simt_memory.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "simt_internal.h"

namespace simt {
namespace {

constexpr std::size_t kAlign = 256;     // cudaMalloc's alignment
constexpr std::size_t kMinGuard = 64;   // at least this many guard bytes after every block
constexpr std::size_t kPage = 4096;

struct Block {
  std::size_t bytes;     // in use: the guard zone starts here
  std::size_t capacity;  // bytes + guard, a multiple of kAlign
};

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

std::string hex(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

class Arena {
 public:
  static Arena& get() {
    static Arena* a = new Arena;  // never destroyed: tensors may outlive static destructors
    return *a;
  }

  std::mutex mu;
  char* base = nullptr;
  std::size_t reserved = 0;
  std::size_t top = 0;  // [base, base + top) has been handed out at least once
  std::map<uintptr_t, Block> live;
  std::multimap<std::size_t, uintptr_t> free_blocks;  // capacity -> address
  std::size_t live_bytes = 0;
  int access = 0;  // live ArenaAccess objects
  bool protect = true;

  // Makes [base, base + top) accessible or not (only while the protection is on).
  void set_access_locked(bool on) {
    if (!protect || top == 0) return;
    if (mprotect(base, round_up(top, kPage), on ? PROT_READ | PROT_WRITE : PROT_NONE) != 0) {
      // E.g. strict overcommit refusing the commit charge: carry on unprotected, say so once.
      std::fprintf(stderr, "simt: mprotect of the device arena failed (%s); host accesses to device memory are no longer caught\n",
                   std::strerror(errno));
      mprotect(base, round_up(top, kPage), PROT_READ | PROT_WRITE);
      protect = false;
    }
  }

  // The live block containing [p, p + bytes), or live.end().
  std::map<uintptr_t, Block>::iterator find_locked(const void* p, std::size_t bytes) {
    const auto a = reinterpret_cast<uintptr_t>(p);
    auto it = live.upper_bound(a);
    if (it == live.begin()) return live.end();
    --it;
    if (a + bytes > it->first + it->second.bytes) return live.end();
    return it;
  }

  bool contains(const void* p) const {
    const auto a = reinterpret_cast<uintptr_t>(p), b = reinterpret_cast<uintptr_t>(base);
    return base && a >= b && a < b + reserved;
  }

 private:
  Arena() {
    const char* gib = std::getenv("SIMT_ARENA_GIB");
    reserved = std::size_t(gib && std::atoi(gib) > 0 ? std::atoi(gib) : 16) << 30;
    void* p = mmap(nullptr, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      std::fprintf(stderr, "simt: cannot reserve %zu GiB of address space for the device arena (SIMT_ARENA_GIB)\n",
                   reserved >> 30);
      std::abort();
    }
    base = static_cast<char*>(p);
    const char* prot = std::getenv("SIMT_PROTECT");
    protect = !(prot && std::string(prot) == "0");
    if (!protect) mprotect(base, reserved, PROT_READ | PROT_WRITE);
    detail::install_fault_handler();
  }
};

struct sigaction g_previous_segv;

// A fault inside the arena outside any access window is host code reading device memory.
void on_fault(int sig, siginfo_t* info, void* ctx) {
  Arena& a = Arena::get();
  if (a.contains(info->si_addr)) {
    static const char msg[] =
        "simt: host code accessed emulated device memory (outside a kernel launch or an explicit "
        "simt::memcpy): copy it to the host first, as on a GPU\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    std::abort();
  }
  if (g_previous_segv.sa_flags & SA_SIGINFO) {
    g_previous_segv.sa_sigaction(sig, info, ctx);
  } else if (g_previous_segv.sa_handler != SIG_IGN && g_previous_segv.sa_handler != SIG_DFL) {
    g_previous_segv.sa_handler(sig);
  } else {
    signal(sig, SIG_DFL);  // returning re-runs the access, which now takes the default action
  }
}

}  // namespace

void detail::install_fault_handler() {
  struct sigaction sa {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  struct sigaction old {};
  sigaction(SIGSEGV, &sa, &old);
  if (!((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_fault)) g_previous_segv = old;  // never itself
}

namespace {

// First byte of [from, to) that is not kGuardByte, or nullptr.
const unsigned char* first_bad_guard(const unsigned char* from, const unsigned char* to) {
  for (const unsigned char* q = from; q < to; ++q)
    if (*q != kGuardByte) return q;
  return nullptr;
}

std::atomic<int> g_allow_host_pointers{0};

}  // namespace

namespace detail {

ArenaAccess::ArenaAccess() {
  Arena& a = Arena::get();
  std::lock_guard lock(a.mu);
  if (a.access++ == 0) a.set_access_locked(true);
}

ArenaAccess::~ArenaAccess() {
  Arena& a = Arena::get();
  std::lock_guard lock(a.mu);
  if (--a.access == 0) a.set_access_locked(false);
}

std::string kernel_pointer_problem(const void* p) {
  if (p == nullptr) return "";
  Arena& a = Arena::get();
  std::lock_guard lock(a.mu);
  if (a.find_locked(p, 0) != a.live.end()) return "";
  if (a.contains(p)) return "points into freed or unallocated device memory";
  if (g_allow_host_pointers.load() > 0) return "";
  return "is a host pointer, not device memory (copy the data to the device first)";
}

std::string guard_problem() {
  Arena& a = Arena::get();
  std::lock_guard lock(a.mu);
  for (auto& [addr, b] : a.live) {
    auto* start = reinterpret_cast<unsigned char*>(addr);
    const unsigned char* bad = first_bad_guard(start + b.bytes, start + b.capacity);
    if (!bad) continue;
    std::memset(start + b.bytes, kGuardByte, b.capacity - b.bytes);  // report it once
    return "wrote past the end of a device buffer of " + std::to_string(b.bytes) + " bytes at " + hex(start) +
           " (byte " + std::to_string(bad - start) + ")";
  }
  return "";
}

void arena_range(uintptr_t& lo, std::size_t& size) noexcept {
  Arena& a = Arena::get();
  lo = reinterpret_cast<uintptr_t>(a.base);
  size = a.reserved;
}

bool live_range(const void* p, std::size_t bytes, uintptr_t& lo, uintptr_t& hi) {
  Arena& a = Arena::get();
  std::lock_guard lock(a.mu);
  auto it = a.find_locked(p, bytes);
  if (it == a.live.end()) return false;
  lo = it->first;
  hi = it->first + it->second.bytes;
  return true;
}

bool arena_mapped(const void* p) {
  Arena& a = Arena::get();
  std::lock_guard lock(a.mu);
  const auto addr = reinterpret_cast<uintptr_t>(p), base = reinterpret_cast<uintptr_t>(a.base);
  return addr >= base && addr < base + round_up(a.top, kPage);
}

std::string describe_bad_access(const void* p, std::size_t bytes) {
  Arena& a = Arena::get();
  std::lock_guard lock(a.mu);
  const auto addr = reinterpret_cast<uintptr_t>(p);
  std::string what = std::to_string(bytes) + " bytes at " + hex(p) + ": ";
  auto it = a.live.upper_bound(addr);  // the nearest live allocation at or below p
  if (it != a.live.begin()) {
    --it;
    const std::size_t off = addr - it->first, size = it->second.bytes;
    if (off < it->second.capacity)
      return what + "byte " + std::to_string(off) + " of a " + std::to_string(size) + "-byte device buffer at " +
             hex(reinterpret_cast<void*>(it->first)) + " (" +
             (off < size ? "runs past its end" : std::to_string(off - size) + " bytes past its end") + ")";
  }
  for (const auto& [capacity, start] : a.free_blocks)
    if (addr >= start && addr < start + capacity)
      return what + "byte " + std::to_string(addr - start) + " of a freed device buffer at " +
             hex(reinterpret_cast<void*>(start));
  return what + (addr < reinterpret_cast<uintptr_t>(a.base) + a.top ? "between device buffers" : "unallocated device memory");
}

}  // namespace detail

namespace testing {
AllowHostPointers::AllowHostPointers() { ++g_allow_host_pointers; }
AllowHostPointers::~AllowHostPointers() { --g_allow_host_pointers; }
}  // namespace testing

void* device_malloc(std::size_t bytes) {
  Arena& a = Arena::get();
  const std::size_t capacity = round_up(bytes + kMinGuard, kAlign);
  uintptr_t addr = 0;
  {
    std::lock_guard lock(a.mu);
    if (auto it = a.free_blocks.lower_bound(capacity); it != a.free_blocks.end() && it->first < 2 * capacity) {
      addr = it->second;
      a.live.emplace(addr, Block{bytes, it->first});
      a.free_blocks.erase(it);
    } else {
      if (a.top + capacity > a.reserved)
        throw Error("simt: out of emulated device memory (" + std::to_string(bytes) + " bytes requested, " +
                    std::to_string(a.live_bytes) + " live; the arena is SIMT_ARENA_GIB of address space)");
      addr = reinterpret_cast<uintptr_t>(a.base) + a.top;
      const std::size_t old_pages = round_up(a.top, kPage);
      a.top += capacity;
      if (a.protect && a.access > 0 && round_up(a.top, kPage) > old_pages)
        mprotect(a.base + old_pages, round_up(a.top, kPage) - old_pages, PROT_READ | PROT_WRITE);
      a.live.emplace(addr, Block{bytes, capacity});
    }
    a.live_bytes += bytes;
  }
  device_reuse(reinterpret_cast<void*>(addr), bytes);
  return reinterpret_cast<void*>(addr);
}

void device_reuse(void* p, std::size_t bytes) {
  Arena& a = Arena::get();
  Block b{};
  {
    std::lock_guard lock(a.mu);
    auto it = a.live.find(reinterpret_cast<uintptr_t>(p));
    if (it == a.live.end()) throw Error("simt: device_reuse of " + hex(p) + ", which is not a live allocation");
    if (bytes + kMinGuard > it->second.capacity)
      throw Error("simt: device_reuse of " + std::to_string(bytes) + " bytes of a block of " +
                  std::to_string(it->second.capacity - kMinGuard));
    a.live_bytes = a.live_bytes - it->second.bytes + bytes;
    it->second.bytes = bytes;
    b = it->second;
  }
  detail::ArenaAccess access;
  std::memset(p, kPoisonByte, bytes);
  std::memset(static_cast<char*>(p) + bytes, kGuardByte, b.capacity - bytes);
}

void device_free(void* p) {
  if (p == nullptr) return;
  Arena& a = Arena::get();
  detail::ArenaAccess access;
  std::lock_guard lock(a.mu);
  auto it = a.live.find(reinterpret_cast<uintptr_t>(p));
  if (it == a.live.end()) throw Error("simt: device_free of " + hex(p) + ", which is not a live device allocation");
  const Block b = it->second;
  auto* start = static_cast<unsigned char*>(p);
  const unsigned char* bad = first_bad_guard(start + b.bytes, start + b.capacity);
  a.live.erase(it);
  a.live_bytes -= b.bytes;
  a.free_blocks.emplace(b.capacity, reinterpret_cast<uintptr_t>(p));
  if (bad)
    throw Error("simt: the guard zone after a device buffer of " + std::to_string(b.bytes) + " bytes at " + hex(p) +
                " was overwritten (byte " + std::to_string(bad - start) + "), found when it was freed");
}

void memcpy(void* dst, const void* src, std::size_t bytes, CopyKind kind) {
  if (bytes == 0) return;
  Arena& a = Arena::get();
  auto check = [&](const void* p, const char* side) {
    std::lock_guard lock(a.mu);
    if (!a.contains(p) && g_allow_host_pointers.load() > 0) return;  // a kernel unit test's host buffer
    if (a.find_locked(p, bytes) == a.live.end())
      throw Error(std::string("simt: memcpy of ") + std::to_string(bytes) + " bytes: the " + side + " (" + hex(p) +
                  ") is not inside one live device allocation" +
                  (a.contains(p) ? "" : " (a host pointer where a device pointer belongs?)"));
  };
  auto check_host = [&](const void* p, const char* side) {
    if (a.contains(p))
      throw Error(std::string("simt: memcpy of ") + std::to_string(bytes) + " bytes: the " + side + " (" + hex(p) +
                  ") is device memory where a host pointer belongs");
  };
  if (kind == CopyKind::host_to_device || kind == CopyKind::device_to_device) check(dst, "destination");
  if (kind == CopyKind::device_to_host || kind == CopyKind::device_to_device) check(src, "source");
  if (kind == CopyKind::host_to_device) check_host(src, "source");
  if (kind == CopyKind::device_to_host) check_host(dst, "destination");
  detail::ArenaAccess access;
  std::memmove(dst, src, bytes);
}

void memset(void* dst, int value, std::size_t bytes) {
  if (bytes == 0) return;
  Arena& a = Arena::get();
  {
    std::lock_guard lock(a.mu);
    if (a.find_locked(dst, bytes) == a.live.end())
      throw Error("simt: memset of " + std::to_string(bytes) + " bytes at " + hex(dst) +
                  ", which is not inside one live device allocation");
  }
  detail::ArenaAccess access;
  std::memset(dst, value, bytes);
}

bool in_arena(const void* p) noexcept { return Arena::get().contains(p); }

std::size_t live_bytes() noexcept {
  Arena& a = Arena::get();
  std::lock_guard lock(a.mu);
  return a.live_bytes;
}

std::size_t live_allocations() noexcept {
  Arena& a = Arena::get();
  std::lock_guard lock(a.mu);
  return a.live.size();
}

}  // namespace simt
