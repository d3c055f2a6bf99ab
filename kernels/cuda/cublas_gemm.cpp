#include "kernels/cuda/cublas_gemm.h"

#include <limits>
#include <mutex>
#include <string>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_runtime.h"

namespace bt::cuda {
namespace {

cublasHandle_t handle() {
  require_device();
  static cublasHandle_t h = [] {
    cublasHandle_t created = nullptr;
    check(cublasCreate(&created), "cublasCreate");
    // Pure FP32 (no TF32 tensor-op rounding): the cuda device matches the CPU reference to fp32.
    check(cublasSetMathMode(created, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");
    return created;
  }();
  return h;
}

int as_int(int64_t v, const char* what) {
  if (v < 0 || v > std::numeric_limits<int>::max())
    throw simt::Error(std::string("cublas_sgemm: ") + what + " = " + std::to_string(v) + " is out of cuBLAS's int range");
  return int(v);
}

}  // namespace

void cublas_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  // cuBLAS is column-major; a row-major matrix is its transpose there. So compute
  // Cᵀ (N, M) = op(B)ᵀ · op(A)ᵀ with the operands swapped and each op kept as it is.
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  check(cublasSgemm(handle(), op_b, op_a, as_int(N, "N"), as_int(M, "M"), as_int(K, "K"), &alpha, B,
                    as_int(ldb, "ldb"), A, as_int(lda, "lda"), &beta, C, as_int(ldc, "ldc")),
        "cublasSgemm");
}

}  // namespace bt::cuda
