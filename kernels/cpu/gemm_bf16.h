#pragma once
// GEMM in bf16 on the CPU (the --precision bf16 compute of matmul): C = op(A) · op(B), row-major,
// op(A) (M, K), op(B) (K, N), C (M, N), lda/ldb/ldc row strides as in gemm.h. A and B are rounded
// to bf16 (round to nearest even) by oneDNN reorders into dense copies; the products are summed
// in float32 and C is OVERWRITTEN in float32 by a oneDNN matmul (AVX512_BF16 dot products where
// the CPU has them). Primitives and copies are cached per shape; calls serialise on a mutex.
#include <cstdint>
#include <string>

namespace bt::cpu {

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
               const float* B, int64_t ldb, float* C, int64_t ldc);

// The implementation oneDNN chose for this shape's matmul, e.g. "brg:avx512_core_bf16".
std::string gemm_bf16_impl(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, int64_t lda,
                           int64_t ldb, int64_t ldc);

}  // namespace bt::cpu
