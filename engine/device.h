#pragma once
// Device availability and the vendor libraries of the cuda device, behind one interface that
// exists in every build: with the CUDA backend (BT_HAVE_CUDA_KERNELS) these call
// kernels/cuda's runtime, cuBLAS and cuDNN glue; without it, each throws "no CUDA device".
#include <cstddef>
#include <string>

#include "engine/dtype.h"
#include "kernels/cpu/conv2d_shape.h"

namespace bt {

// "cpu", "simt" or "cuda"; throws Error naming the expected values otherwise.
Device parse_device(const std::string& name);

// Throws Error("no CUDA device ...") unless `d` can run here (cpu and simt always can).
void require_device(Device d);

namespace cuda_device {

void* alloc(size_t bytes);
void free(void* ptr) noexcept;
void memcpy(void* dst, bool dst_on_device, const void* src, bool src_on_device, size_t bytes);

// bt::cpu::gemm's contract (float32, device pointers) on cuBLAS.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
// bt::cpu::conv2d_*'s contract (float32, device pointers) on cuDNN.
void conv2d_forward(const cpu::Conv2dShape& s, const float* x, const float* w, float* y);
void conv2d_backward_data(const cpu::Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weight(const cpu::Conv2dShape& s, const float* x, const float* dy, float* dw);

}  // namespace cuda_device
}  // namespace bt
