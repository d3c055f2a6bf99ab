#include "kernels/cpu/dnnl_support.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

namespace bt::cpu::dnnl_support {

const dnnl::engine& engine() {
  static const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& stream() {
  static dnnl::stream strm(engine());
  return strm;
}

void* Arena::reserve(size_t bytes) {
  if (bytes > size_) {
    size_ = (bytes + 63) / 64 * 64;
    data_.reset(std::aligned_alloc(64, size_));
    if (!data_) throw std::bad_alloc();
  }
  return data_.get();
}

void Arena::Free::operator()(void* p) const { std::free(p); }

dnnl_memory_t Plan::add_user(const dnnl::memory::desc& md) {
  user.push_back({dnnl::memory(md, engine(), DNNL_MEMORY_NONE)});
  return user.back().mem.get();
}

dnnl_memory_t Plan::add_internal(const dnnl::memory::desc& md, int arena) {
  internal.push_back({dnnl::memory(md, engine(), DNNL_MEMORY_NONE), arena});
  if (arena_bytes.size() <= size_t(arena)) arena_bytes.resize(size_t(arena) + 1);
  arena_bytes[size_t(arena)] = std::max(arena_bytes[size_t(arena)], md.get_size());
  return internal.back().mem.get();
}

void Plan::add_scratchpad(Step& step, const dnnl::memory::desc& md, int arena) {
  if (md.get_size() > 0) step.args.push_back({DNNL_ARG_SCRATCHPAD, add_internal(md, arena)});
}

void Plan::run(std::span<Arena> arenas, std::initializer_list<const void*> buffers, const char* what) {
  if (buffers.size() != user.size()) throw std::logic_error(std::string(what) + ": wrong number of buffers");
  size_t i = 0;
  for (const void* p : buffers) user[i++].bind(const_cast<void*>(p));
  for (Bound& b : internal) b.bind(arenas[size_t(b.arena)].reserve(arena_bytes[size_t(b.arena)]));
  for (const Step& st : steps) {
    const dnnl_status_t status =
        dnnl_primitive_execute(st.prim.get(), stream().get(), int(st.args.size()), st.args.data());
    if (status != dnnl_success) throw dnnl::error(status, (std::string(what) + ": could not execute a primitive").c_str());
  }
  stream().wait();
}

bool has_avx512_bf16() {
  // cpu_isa values are bit sets, each ISA's containing those of the ISAs it extends.
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (isa & bf16) == bf16;
}

}  // namespace bt::cpu::dnnl_support
