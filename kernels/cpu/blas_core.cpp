#include "kernels/cpu/blas_core.h"

#include <cstdlib>
#include <cstring>

extern "C" char* openblas_get_corename(void);

namespace bt::cpu {

const char* blas_core_name() { return openblas_get_corename(); }

const char* preferred_blas_core() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return nullptr;  // the user's choice, or done already
  const char* detected = openblas_get_corename();
  if (detected == nullptr || std::strcmp(detected, "Prescott") != 0) return nullptr;  // detection worked
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

}  // namespace bt::cpu
