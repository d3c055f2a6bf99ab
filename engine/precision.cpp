#include "engine/precision.h"

#include "engine/error.h"
#include "kernels/cpu/dnnl_support.h"

namespace bt {
namespace {

thread_local Precision current = Precision::f32;

}  // namespace

const char* to_string(Precision p) { return p == Precision::bf16 ? "bf16" : "f32"; }

Precision parse_precision(const std::string& s, const char* flag) {
  if (s == "f32") return Precision::f32;
  if (s == "bf16") return Precision::bf16;
  detail::fail(flag, ": unknown precision '", s, "', expected f32 or bf16");
}

Precision compute_precision() { return current; }

PrecisionScope::PrecisionScope(Precision p) : saved_(current) { current = p; }
PrecisionScope::~PrecisionScope() { current = saved_; }

void check_precision_supported(Precision p, const char* flag) {
  BT_CHECK(p != Precision::bf16 || cpu::dnnl_support::has_avx512_bf16(), flag,
           " bf16 needs a CPU with AVX512_BF16 (bf16 dot products); this one has none, use f32");
}

}  // namespace bt
