#include "kernels/cpu/dnnl_support.h"

#include <cstdlib>
#include <new>
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

void run(const std::vector<Step>& steps, const char* what) {
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
