#pragma once
// SGEMM on the cuda device through cuBLAS (cublas_gemm.cpp, built only with the CUDA backend),
// the same contract as bt::cpu::gemm (kernels/cpu/gemm.h): C = alpha·op(A)·op(B) + beta·C,
// row-major, op(A) (M, K), op(B) (K, N), lda/ldb/ldc row strides; beta == 0 does not read C.
// Device pointers; synchronous with respect to the default stream. Errors: simt::Error.
#include <cstdint>

namespace bt::cuda {

void cublas_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace bt::cuda
