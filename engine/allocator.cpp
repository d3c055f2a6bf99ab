#include "engine/allocator.h"

#include <cstdlib>
#include <new>

#include "engine/device.h"
#include "engine/error.h"
#include "kernels/simt/simt_memory.h"

namespace bt {

namespace {
void* host_alloc(size_t bytes) { return std::aligned_alloc(64, bytes); }
void host_free(void* p) { std::free(p); }
void* simt_alloc(size_t bytes) { return device_calls::alloc(Device::simt, bytes); }
void simt_free(void* p) { device_calls::free(Device::simt, p); }
void simt_prepare(void* p, size_t bytes) { simt::device_reuse(p, bytes); }
void* cuda_alloc(size_t bytes) { return device_calls::alloc(Device::cuda, bytes); }
void cuda_free(void* p) { device_calls::free(Device::cuda, p); }
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
    p = system_alloc_locked(size);
    ++stats_.system_allocs;
  }
  if (raw_.prepare) raw_.prepare(p, bytes);
  stats_.live_bytes += size;
  ++stats_.live_blocks;
  if (stats_.live_bytes > stats_.peak_live_bytes) stats_.peak_live_bytes = stats_.live_bytes;
  return p;
}

// raw_.alloc, and when it fails (nullptr, or an exception such as cudaMalloc's "out of memory")
// with blocks in the cache: every cached block given back, then one more try.
void* CachingAllocator::system_alloc_locked(size_t size) {
  void* p = nullptr;
  try {
    p = raw_.alloc(size);
  } catch (...) {
    if (free_.empty()) throw;
  }
  if (p != nullptr) return p;
  for (auto& [s, q] : free_) raw_.free(q);
  free_.clear();
  stats_.cached_bytes = 0;
  p = raw_.alloc(size);
  if (p == nullptr) throw std::bad_alloc();
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
  static CachingAllocator simt({simt_alloc, simt_free, simt_prepare});
  static CachingAllocator cuda({cuda_alloc, cuda_free});
  switch (d) {
    case Device::cpu: return cpu;
    case Device::simt: return simt;
    case Device::cuda: return cuda;
  }
  return cpu;
}

}  // namespace bt
