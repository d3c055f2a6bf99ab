#pragma once
// Checks for CUDA runtime, cuBLAS and cuDNN status codes (the host glue of kernels/cuda):
// a failure throws simt::Error naming the call, the library's message and the call site; the
// "no device / no driver" codes read "no CUDA device (...)".
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <source_location>
#include <string>

#include "kernels/simt/simt_error.h"

namespace bt::cuda {

inline std::string call_site(const char* call, const std::source_location& where) {
  return std::string(call) + " at " + where.file_name() + ":" + std::to_string(where.line());
}

inline void check(cudaError_t e, const char* call, std::source_location where = std::source_location::current()) {
  if (e == cudaSuccess) return;
  const bool no_device = e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver;
  throw simt::Error(std::string(no_device ? "no CUDA device (" : "CUDA error (") + cudaGetErrorString(e) + ") in " +
                    call_site(call, where));
}

inline void check(cublasStatus_t s, const char* call, std::source_location where = std::source_location::current()) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  throw simt::Error(std::string("cuBLAS error (") + cublasGetStatusString(s) + ") in " + call_site(call, where));
}

inline void check(cudnnStatus_t s, const char* call, std::source_location where = std::source_location::current()) {
  if (s == CUDNN_STATUS_SUCCESS) return;
  throw simt::Error(std::string("cuDNN error (") + cudnnGetErrorString(s) + ") in " + call_site(call, where));
}

}  // namespace bt::cuda
