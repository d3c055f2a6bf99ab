#pragma once
// Private to the emulator runtime (simt_runtime.cpp, simt_block.cpp).
#include <cstdint>
#include <source_location>
#include <string>

#include "simt.h"

namespace simt::detail {

// Runs block number `linear` (x fastest) of the launch on the calling OS thread: its CUDA
// threads as fibers, interleaved by `schedule`. Throws simt::Error on a deadlock, a divergent
// barrier or an exception from kernel code.
void run_block(const LaunchDesc& d, const Schedule& schedule, uint64_t linear);

// True while the calling OS thread is running a block (a launch from a kernel is refused).
bool inside_kernel();

// "file:line:column" of a call site.
std::string site_str(const std::source_location& s);
// The demangled name of a kernel function (simt_symbols.cpp), or "kernel at 0x...".
std::string kernel_name(const void* fn);

// "(x,y,z)".
std::string dim_str(unsigned x, unsigned y, unsigned z);

// splitmix64: seeds the per-block random schedules and the block permutation.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace simt::detail
