#include "engine/allocator.h"

#include <cstdlib>
#include <new>

#include "engine/device.h"
#include "engine/error.h"

namespace bt {

namespace {
void* host_alloc(size_t bytes) { return std::aligned_alloc(64, bytes); }
void host_free(void* p) { std::free(p); }
}  // namespace

size_t CachingAllocator::round_size(size_t bytes) {
  const size_t b = bytes == 0 ? 64 : bytes;
  return (b + 63) / 64 * 64;
}

CachingAllocator::~CachingAllocator() { empty_cache(); }

void* CachingAllocator::allocate(size_t bytes) {
  const size_t size = round_size(bytes);
  std::lock_guard lock(mu_);
  void* p = nullptr;
  if (auto it = free_.find(size); it != free_.end()) {
    p = it->second;
    free_.erase(it);
    stats_.cached_bytes -= size;
    ++stats_.cache_hits;
  } else {
    p = raw_.alloc(size);
    if (p == nullptr) {  // out of memory: give the cache back and try once more
      for (auto& [s, q] : free_) raw_.free(q);
      free_.clear();
      stats_.cached_bytes = 0;
      p = raw_.alloc(size);
      if (p == nullptr) throw std::bad_alloc();
    }
    ++stats_.system_allocs;
  }
  stats_.live_bytes += size;
  ++stats_.live_blocks;
  if (stats_.live_bytes > stats_.peak_live_bytes) stats_.peak_live_bytes = stats_.live_bytes;
  return p;
}

void CachingAllocator::deallocate(void* ptr, size_t bytes) {
  if (ptr == nullptr) return;
  const size_t size = round_size(bytes);
  std::lock_guard lock(mu_);
  free_.emplace(size, ptr);
  stats_.cached_bytes += size;
  stats_.live_bytes -= size;
  --stats_.live_blocks;
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard lock(mu_);
  stats_.peak_live_bytes = stats_.live_bytes;
}

void CachingAllocator::empty_cache() {
  std::lock_guard lock(mu_);
  for (auto& [s, p] : free_) raw_.free(p);
  free_.clear();
  stats_.cached_bytes = 0;
}

CachingAllocator& allocator(Device d) {
  static CachingAllocator cpu({host_alloc, host_free});
  static CachingAllocator simt({host_alloc, host_free});
  static CachingAllocator cuda({cuda_device::alloc, cuda_device::free});
  switch (d) {
    case Device::cpu: return cpu;
    case Device::simt: return simt;
    case Device::cuda: return cuda;
  }
  return cpu;
}

}  // namespace bt
