#pragma once
// The families built into bt_kernel_cases; registry.cpp lists them. A new built-in family adds
// its factory here and one line in registry.cpp.
#include "kernels/cases/kernel_case.h"

namespace bt::cases {

Family matmul_family();  // matmul_cases.cpp: bt::cpu::gemm vs gemm_ref
Family conv2d_family();  // conv2d_cases.cpp: bt::cpu::conv2d_* (im2col, oneDNN) vs conv2d_*_ref
Family ssl_family();     // ssl_cases.cpp: bt::cpu and bt::cuda (emulator) SSL losses vs *_ref

// The matmul group whose GFLOP/s kernel_bench reports as the machine's sgemm figure.
inline constexpr const char* kSgemmPeakGroup = "sgemm-peak";

}  // namespace bt::cases
