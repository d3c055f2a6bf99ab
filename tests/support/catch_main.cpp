// The Catch2 main of every test executable: selects the OpenBLAS kernels first (blas_core.h).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "kernels/cpu/blas_core.h"

int main(int argc, char** argv) {
  bt::cpu::select_blas_core(argv);
  return Catch::Session().run(argc, argv);
}
