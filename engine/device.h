#pragma once
// The devices' memory and vendor-library calls, behind one interface that exists in every build.
// simt and cuda take the same path through the engine (docs/simt.md):
//   simt  the emulator's device arena (kernels/simt/simt_memory.h), GEMM = our gemm.cu and
//         convolution = our conv2d.cu, both run by the SIMT emulator (the stand-ins for cuBLAS
//         and cuDNN)
//   cuda  cudaMalloc/cudaMemcpy, cuBLAS and cuDNN (kernels/cuda; BT_HAVE_CUDA_KERNELS): without a
//         GPU or a CUDA backend each throws "no CUDA device"
// Every function here takes a device that is simt or cuda (cpu memory is plain host memory).
#include <cstddef>
#include <string>

#include "engine/dtype.h"
namespace bt {

namespace cpu {
struct Conv2dShape;  // kernels/cpu/conv2d_shape.h, included where the conv2d calls are made
}  // namespace cpu

// "cpu", "simt" or "cuda"; throws Error naming the expected values otherwise.
Device parse_device(const std::string& name);

// Throws Error("no CUDA device ...") unless `d` can run here (cpu and simt always can).
void require_device(Device d);

namespace device_calls {

void* alloc(Device d, size_t bytes);
void free(Device d, void* ptr);
// dst (on dst_device) = src (on src_device), `bytes` bytes, synchronous; any pair of devices.
void memcpy(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

// bt::cpu::gemm's contract (float32, device pointers): cuBLAS on cuda, gemm_v2_tiled on simt.
void gemm(Device d, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
// bt::cpu::conv2d_*'s contract (float32, device pointers): cuDNN on cuda, conv2d.cu on simt.
void conv2d_forward(Device d, const cpu::Conv2dShape& s, const float* x, const float* w, float* y);
void conv2d_backward_data(Device d, const cpu::Conv2dShape& s, const float* dy, const float* w, float* dx);
void conv2d_backward_weight(Device d, const cpu::Conv2dShape& s, const float* x, const float* dy, float* dw);

}  // namespace device_calls
}  // namespace bt
