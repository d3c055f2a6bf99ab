#pragma once
// The families built into bt_kernel_cases; registry.cpp lists them. A new built-in family adds
// its factory here and one line in registry.cpp.
#include "kernels/cases/kernel_case.h"

namespace bt::cases {

// Versions named "simt…" run kernels/cuda on the SIMT emulator, "cuda…" on a GPU when there is
// one (cuda_buffers.h).
Family matmul_family();       // matmul_cases.cpp: bt::cpu::gemm, bt::cuda::gemm_v* vs gemm_ref
Family conv2d_family();       // conv2d_cases.cpp: bt::cpu::conv2d_* (im2col, oneDNN) vs conv2d_*_ref
Family ssl_family();          // ssl_cases.cpp: bt::cpu and bt::cuda SSL losses vs *_ref
Family elementwise_family();  // elementwise_cases.cpp: bt::cpu and bt::cuda elementwise vs loops in double
Family reduce_family();       // reduce_cases.cpp: bt::cpu::sum_*, bt::cuda::sum_dim* vs sum_*_ref
Family batch_norm_family();   // batch_norm_cases.cpp: bt::cpu and bt::cuda batch_norm_* vs *_ref
Family pool_family();         // pool_cases.cpp: bt::cpu and bt::cuda max / global average pool vs *_ref
Family normalize_family();    // normalize_cases.cpp: bt::cpu and bt::cuda l2_normalize_* vs *_ref
Family optim_family();        // optim_cases.cpp: bt::cpu and bt::cuda optimizer updates vs the CPU's in double
Family softmax_family();      // softmax_cases.cpp: bt::cpu log_softmax / cross_entropy vs *_ref
Family vicreg_family();       // vicreg_cases.cpp: bt::cpu and bt::cuda vicreg_loss vs vicreg_loss_ref

// The matmul group whose GFLOP/s kernel_bench reports as the machine's sgemm figure.
inline constexpr const char* kSgemmPeakGroup = "sgemm-peak";

}  // namespace bt::cases
