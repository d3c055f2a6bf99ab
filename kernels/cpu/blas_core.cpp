#include "kernels/cpu/blas_core.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

extern "C" char* openblas_get_corename(void);

namespace bt::cpu {

const char* blas_core_name() { return openblas_get_corename(); }

void select_blas_core(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // the user's choice, or done already
  const char* detected = openblas_get_corename();
  if (detected == nullptr || std::strcmp(detected, "Prescott") != 0) return;  // detection worked
  const char* core = nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    core = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    core = "Haswell";
  if (core == nullptr) return;
  setenv("OPENBLAS_CORETYPE", core, 1);
  execv("/proc/self/exe", argv);  // returns only on failure: keep going on the generic kernels
}

}  // namespace bt::cpu
