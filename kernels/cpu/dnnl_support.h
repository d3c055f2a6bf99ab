#pragma once
// What the oneDNN-backed kernels (conv2d_dnnl.cpp, gemm_bf16.cpp) share: one CPU engine and
// stream, growing aligned arenas behind the primitives' internal buffers, memory objects whose
// data handle is rebound per call, and steps (a primitive with its arguments) run in order.
#include <cstddef>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
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

// Executes the steps in order on stream() and waits; `what` names the kernel in the error.
void run(const std::vector<Step>& steps, const char* what);

// Whether oneDNN's effective ISA has AVX512_BF16 dot products (the CPU's, lowered by the
// ONEDNN_MAX_CPU_ISA environment variable where set).
bool has_avx512_bf16();

}  // namespace bt::cpu::dnnl_support
