#pragma once
// A caching allocator per device: freed blocks are kept in a free list keyed by size and
// handed out again, so a training step that repeats the same shapes allocates nothing from
// the system after the first step (allocation per call is very costly on these machines).
#include <cstddef>
#include <map>
#include <mutex>

#include "engine/dtype.h"

namespace bt {

struct AllocatorStats {
  size_t live_bytes = 0;      // bytes handed out and not yet freed
  size_t peak_live_bytes = 0; // high-water mark of live_bytes since the last reset_peak()
  size_t cached_bytes = 0;    // bytes sitting in the free lists
  size_t live_blocks = 0;
  size_t system_allocs = 0;   // calls that reached the underlying allocator
  size_t cache_hits = 0;
};

// The raw allocator of a device (host memory, the simt arena, cudaMalloc). alloc may return
// nullptr or throw when out of memory; either way the cache is released and it is tried once more.
struct RawAllocator {
  void* (*alloc)(size_t bytes) = nullptr;
  void (*free)(void* ptr) = nullptr;
  // Optional: called with the exact byte count each time a block is handed out (the simt arena
  // poisons it and moves its guard zone to the end of those bytes).
  void (*prepare)(void* ptr, size_t bytes) = nullptr;
};

class CachingAllocator {
 public:
  explicit CachingAllocator(RawAllocator raw) : raw_(raw) {}
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  void* allocate(size_t bytes);
  void deallocate(void* ptr, size_t bytes);
  AllocatorStats stats() const;
  void reset_peak();
  void empty_cache();  // return every cached block to the system

  static size_t round_size(size_t bytes);

 private:
  void* system_alloc_locked(size_t size);

  RawAllocator raw_;
  mutable std::mutex mu_;
  std::multimap<size_t, void*> free_;
  AllocatorStats stats_;
};

// The allocator of a device: cpu 64-byte-aligned host memory, simt the emulator's device arena,
// cuda cudaMalloc (engine/device.h: "no CUDA device" without a GPU or a CUDA backend).
CachingAllocator& allocator(Device d);

}  // namespace bt
