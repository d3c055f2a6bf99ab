#pragma once
// What the oneDNN-backed kernels (conv2d_dnnl.cpp, gemm_bf16.cpp) share: one CPU engine and
// stream, growing aligned arenas behind the primitives' internal buffers, memory objects whose
// data handle is rebound per call, and steps (a primitive with its arguments) run in order.
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <span>
#include <vector>

namespace bt::cpu::dnnl_support {

// The process's oneDNN CPU engine and its stream (created on first use).
const dnnl::engine& engine();
dnnl::stream& stream();

// A 64-byte aligned buffer that only grows.
class Arena {
 public:
  void* reserve(size_t bytes);

 private:
  struct Free {
    void operator()(void* p) const;
  };
  std::unique_ptr<void, Free> data_;
  size_t size_ = 0;
};

// A memory object whose data handle is (re)bound at call time; tracks the last handle so that
// unchanged handles are not set again (setting one makes oneDNN re-zero the blocked padding).
struct Bound {
  dnnl::memory mem;
  int arena = -1;  // -1: a user buffer
  void* handle = nullptr;
  void bind(void* p) {
    if (p != handle) mem.set_data_handle(p);
    handle = p;
  }
};

struct Step {
  dnnl::primitive prim;
  std::vector<dnnl_exec_arg_t> args;  // built once: executing through the C API copies nothing
};

// A cached sequence of primitives (reorders and the kernel) over the caller's buffers (the
// user memories, rebound at every run) and internal copies and scratchpads, each on one of the
// caller's arenas (plans that run one at a time share them).
struct Plan {
  std::vector<Bound> user;
  std::vector<Bound> internal;
  std::vector<size_t> arena_bytes;  // per arena: the most any internal memory on it needs
  std::vector<Step> steps;

  // A memory of descriptor md on the caller's next buffer (the order of run's `buffers`).
  dnnl_memory_t add_user(const dnnl::memory::desc& md);
  // A memory of descriptor md on arena `arena`; its C handle, for execution arguments.
  dnnl_memory_t add_internal(const dnnl::memory::desc& md, int arena);
  // The step's scratchpad on arena `arena`, where it needs one.
  void add_scratchpad(Step& step, const dnnl::memory::desc& md, int arena);
  // Binds the user memories to `buffers` and the internal ones to `arenas`, runs the steps in
  // order on stream() and waits; `what` names the kernel in an error.
  void run(std::span<Arena> arenas, std::initializer_list<const void*> buffers, const char* what);
};

// Whether oneDNN's effective ISA has AVX512_BF16 dot products (the CPU's, lowered by the
// ONEDNN_MAX_CPU_ISA environment variable where set).
bool has_avx512_bf16();

}  // namespace bt::cpu::dnnl_support
