#pragma once
// The compute precision of float32 convolutions and matrix products on the cpu device, the
// --precision flag: f32, or bf16 (like PyTorch's CPU autocast to bfloat16): conv2d and matmul
// round their two inputs to bf16 and sum in float32 (AVX512_BF16 dot products), writing float32,
// and so do the three D×D GEMMs inside the fused Barlow Twins loss (kernels/cpu/ssl_loss_kernels.h).
// Everything else stays float32: the parameters (master weights), their gradients and the
// optimizer, batch norm, the losses' statistics and arithmetic, and every other op. float64 and
// the simt/cuda devices ignore it.
//
// An op reads the precision of its forward pass and records it, so its backward runs in that
// precision wherever backward() is called. The setting is per thread, set by a PrecisionScope.
#include <string>

namespace bt {

enum class Precision { f32, bf16 };

const char* to_string(Precision p);  // "f32", "bf16"
// "f32" or "bf16"; throws bt::Error naming `flag` otherwise.
Precision parse_precision(const std::string& s, const char* flag = "--precision");

// The precision of this thread's float32 conv2d and matmul on the cpu device (f32 by default).
Precision compute_precision();

// Sets this thread's compute precision for its lifetime, then restores the previous one.
class PrecisionScope {
 public:
  explicit PrecisionScope(Precision p);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  Precision saved_;
};

// Throws bt::Error naming `flag` when p is bf16 and this CPU has no AVX512_BF16 (as oneDNN sees
// it: ONEDNN_MAX_CPU_ISA can lower it): bf16 would then be emulated, slower than float32.
void check_precision_supported(Precision p, const char* flag = "--precision");

}  // namespace bt
