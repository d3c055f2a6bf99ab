#pragma once
// SGEMM on the device (gemm.cu), the same contract as bt::cpu::gemm (kernels/cpu/gemm.h):
// C = alpha * op(A) * op(B) + beta * C, row-major; op(A) is (M, K), op(B) is (K, N), C is
// (M, N); lda/ldb/ldc are row strides; op(X) = X^T when trans_x. beta == 0 does not read C.
// Numbered versions, each validated against the CPU reference (tests/test_cuda_kernels.cpp):
//   v1_naive  one thread per element of C, operands straight from global memory
//   v2_tiled  32x32 tiles of op(A) and op(B) staged in shared memory; a (32, 8) block, each
//             thread accumulating 4 elements of one column of the C tile
#include <cstdint>

#include "kernels/cuda/backend.h"

namespace bt::cuda {

template <class B>
void gemm_v1_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* A, int64_t lda, const float* Bm, int64_t ldb, float beta, float* C,
                   int64_t ldc, void* stream);
template <class B>
void gemm_v2_tiled(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* A, int64_t lda, const float* Bm, int64_t ldb, float beta, float* C,
                   int64_t ldc, void* stream);

}  // namespace bt::cuda
