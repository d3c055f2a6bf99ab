#include "kernels/cases/alloc_count.h"

#include <atomic>
#include <cerrno>

namespace bt::cases {
namespace {

std::atomic<bool> g_active{false};
std::atomic<int64_t> g_count{0};
std::atomic<size_t> g_max{0};

[[maybe_unused]] void note(size_t bytes) {
  if (!g_active.load(std::memory_order_relaxed)) return;
  g_count.fetch_add(1, std::memory_order_relaxed);
  size_t m = g_max.load(std::memory_order_relaxed);
  while (bytes > m && !g_max.compare_exchange_weak(m, bytes, std::memory_order_relaxed)) {
  }
}

}  // namespace

#ifdef BT_NO_ALLOC_COUNT
bool alloc_counting_available() { return false; }
#else
bool alloc_counting_available() { return true; }
#endif

AllocCounter::AllocCounter() {
  g_count = 0;
  g_max = 0;
  g_active = true;
}

AllocCounter::~AllocCounter() { g_active = false; }

AllocStats AllocCounter::stats() const { return {g_count.load(), g_max.load()}; }

}  // namespace bt::cases

#ifndef BT_NO_ALLOC_COUNT
// glibc's allocator under its internal names; free() and malloc_usable_size() stay glibc's.
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);

void* malloc(size_t n) {
  bt::cases::note(n);
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  bt::cases::note(n * size);
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  bt::cases::note(n);
  return __libc_realloc(p, n);
}
void* memalign(size_t align, size_t n) {
  bt::cases::note(n);
  return __libc_memalign(align, n);
}
void* aligned_alloc(size_t align, size_t n) {
  bt::cases::note(n);
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, size_t align, size_t n) {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  bt::cases::note(n);
  void* p = __libc_memalign(align, n);
  if (!p && n) return ENOMEM;
  *out = p;
  return 0;
}
}
#endif
