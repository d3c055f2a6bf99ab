#include "engine/process_env.h"

#include <unistd.h>

#include <cstdlib>

#include "kernels/cpu/blas_core.h"

namespace bt {

void prepare_process(char** argv, ProcessEnvOptions options) {
  bool changed = false;
  if (const char* core = options.select_blas_core ? cpu::preferred_blas_core() : nullptr) {
    setenv("OPENBLAS_CORETYPE", core, 1);
    changed = true;
  }
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    changed = true;
  }
  if (changed) execv("/proc/self/exe", argv);  // returns only on failure
}

}  // namespace bt
