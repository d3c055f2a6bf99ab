#pragma once
// The emulator's access checks (docs/simt.md, "Access checks"), private to the runtime.
//
// kernels/cuda/*.cu are compiled for the emulator with GCC's ThreadSanitizer instrumentation
// but without its runtime (CMake option BT_SIMT_CHECK): every load and store of kernel code
// calls __tsan_readN / __tsan_writeN, which simt_check.cpp defines. While a block runs with
// checks on (SIMT_CHECK is not 0), they report
//   - device-memory accesses outside every live allocation (reads as well as writes: past the
//     end of a buffer, into a freed one), and
//   - shared-memory races: two threads of the block touching the same byte in one barrier
//     phase (between two __syncthreads), at least one of them writing, unless a __syncwarp
//     that both lanes took part in orders them.
// The first problem of a block is reported when the block ends (simt_block.cpp).
#include <cstddef>
#include <string>

namespace simt::detail {

// Whether the checks run (SIMT_CHECK=0 turns them off; instrumented code still calls the hooks).
bool checks_enabled();

// Called by the block scheduler (simt_block.cpp) on the OS thread that runs the block.
void check_block_begin(const void* kernel, void* dynamic_smem, std::size_t smem_bytes, unsigned nthreads);
void check_block_end();                            // stops checking on this OS thread
void check_thread(unsigned linear);                // this CUDA thread runs now (kNoThread: none)
void check_barrier_released();                     // a __syncthreads completed: a new phase
void check_syncwarp(unsigned warp, unsigned mask); // a __syncwarp(mask) of `warp` completed
// "" or the block's first problem, as {kind, detail}.
struct CheckProblem {
  std::string kind, detail;
};
CheckProblem check_problem();

inline constexpr unsigned kNoThread = ~0u;

}  // namespace simt::detail
