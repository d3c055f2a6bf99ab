#pragma once
// GEMM on the CPU: C = alpha * op(A) * op(B) + beta * C, row-major.
// op(A) is (M, K), op(B) is (K, N), C is (M, N); lda/ldb/ldc are row strides.
#include <cstdint>

namespace bt::cpu {

// Plain triple loop, accumulating in double: the reference every fast path is tested against.
template <class T>
void gemm_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
              const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// The fast path: OpenBLAS (OpenMP flavour) sgemm / dgemm.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
          const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc);

}  // namespace bt::cpu
