#pragma once
// Counting heap allocations, to verify that a timed path allocates nothing in steady state.
// alloc_count.cpp interposes the malloc family (and hence operator new) in the executables that
// link the bt_alloc_count object library; nothing else sees it. Under BT_SANITIZE the sanitizer
// owns malloc, and counting is unavailable.
#include <cstddef>
#include <cstdint>

namespace bt::cases {

struct AllocStats {
  int64_t count = 0;      // allocations made by any thread while a counter was alive
  size_t max_bytes = 0;   // the largest of them
};

bool alloc_counting_available();

// Counts from construction to stats(); counters do not nest.
class AllocCounter {
 public:
  AllocCounter();
  ~AllocCounter();
  AllocCounter(const AllocCounter&) = delete;
  AllocCounter& operator=(const AllocCounter&) = delete;
  AllocStats stats() const;
};

}  // namespace bt::cases
