#pragma once
// The emulator's host side: simt::launch, the schedule, the thread pool size. Include simt.h.
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "simt_device.h"
#include "simt_error.h"

namespace simt {

// The order in which the emulator runs the ready CUDA threads of a block (and the blocks of a
// grid). A kernel missing a __syncthreads usually gives a different answer under reverse or
// random than under forward. Default: the SIMT_SCHEDULE environment variable
// (forward | reverse | random:SEED), else forward.
struct Schedule {
  enum Kind : uint8_t { forward, reverse, random } kind = forward;
  uint64_t seed = 0;
  std::string str() const;
};
// Parses "forward", "reverse" or "random:SEED" (SEED decimal); throws simt::Error otherwise.
Schedule parse_schedule(std::string_view text);
// The schedule the next launch uses.
Schedule current_schedule();

// Overrides the schedule of every launch (from any host thread) while it lives; nests.
class ScopedSchedule {
 public:
  explicit ScopedSchedule(Schedule s);
  explicit ScopedSchedule(std::string_view text) : ScopedSchedule(parse_schedule(text)) {}
  ~ScopedSchedule();
  ScopedSchedule(const ScopedSchedule&) = delete;
  ScopedSchedule& operator=(const ScopedSchedule&) = delete;

 private:
  bool had_prev_;
  Schedule prev_;
};

// Runs every launch (from any host thread) with the grid sizes of the GPU build while it lives
// (simt::small_grids() is false); nests. Default: SIMT_GRIDS=gpu in the environment, else the
// emulator's smaller grids.
class ScopedGpuGrids {
 public:
  ScopedGpuGrids();
  ~ScopedGpuGrids();
  ScopedGpuGrids(const ScopedGpuGrids&) = delete;
  ScopedGpuGrids& operator=(const ScopedGpuGrids&) = delete;
};

// OS threads that run blocks (the launching thread included). Default: SIMT_THREADS, else
// std::thread::hardware_concurrency(). Takes effect at the next launch.
void set_num_threads(int n);
int num_threads();

namespace detail {

struct LaunchDesc {
  void (*thunk)(const void* ctx);  // runs the kernel body as the current CUDA thread
  const void* ctx;
  dim3 grid, block;
  std::size_t smem;
  std::source_location where;  // the simt::launch call site
  const void* kernel;          // the kernel function, for its name in error messages
  // The pointer arguments (checked against the device arena, simt_memory.h) and their
  // positions in the kernel's parameter list.
  const void* const* pointers;
  const int* pointer_index;
  int npointers;
};
// Runs every block of the grid; returns when all are done. Throws simt::Error.
void run(const LaunchDesc& d);

}  // namespace detail

// The templates a kernel file instantiates: in the emulator build's inline namespace (simt.h).
inline namespace SIMT_BUILD_NS {
namespace launch_detail {

template <class... P, class... A>
void launch_impl(void (*kernel)(P...), dim3 grid, dim3 block, std::size_t smem,
                 const std::source_location& where, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "simt::launch: wrong number of kernel arguments");
  // Arguments are converted to the kernel's parameter types once, like a CUDA launch; every
  // CUDA thread receives its own copy.
  struct Ctx {
    void (*kernel)(P...);
    std::tuple<std::decay_t<P>...> args;
  };
  const Ctx ctx{kernel, std::tuple<std::decay_t<P>...>(std::forward<A>(args)...)};
  const void* pointers[sizeof...(P) + 1] = {};
  int pointer_index[sizeof...(P) + 1] = {};
  int npointers = 0;
  std::apply(
      [&](const auto&... arg) {
        int i = 0;
        auto collect = [&](const auto& a) {
          if constexpr (std::is_pointer_v<std::decay_t<decltype(a)>>) {
            pointers[npointers] = static_cast<const void*>(a);
            pointer_index[npointers++] = i;
          }
          ++i;
        };
        (collect(arg), ...);
      },
      ctx.args);
  const detail::LaunchDesc d{[](const void* c) {
                               auto* x = static_cast<const Ctx*>(c);
                               std::apply(x->kernel, x->args);
                             },
                             &ctx,
                             grid,
                             block,
                             smem,
                             where,
                             reinterpret_cast<const void*>(kernel),
                             pointers,
                             pointer_index,
                             npointers};
  detail::run(d);
}

}  // namespace launch_detail

// simt::launch(kernel, grid, block, smem, stream, args...): runs the whole grid before it
// returns (streams are ignored: every launch is synchronous). A class whose constructor
// launches, so that the call site's source_location comes along with the variadic arguments.
template <class K, class... A>
struct launch {
  launch(K kernel, dim3 grid, dim3 block, std::size_t smem, void* /*stream*/, A&&... args,
         std::source_location where = std::source_location::current()) {
    launch_detail::launch_impl(kernel, grid, block, smem, where, std::forward<A>(args)...);
  }
};
template <class K, class... A>
launch(K, dim3, dim3, std::size_t, void*, A&&...) -> launch<K, A...>;

}  // namespace SIMT_BUILD_NS
}  // namespace simt
