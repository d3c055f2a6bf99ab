#pragma once
// bfloat16 as the --precision bf16 convolutions read it (engine/precision.h): the upper 16 bits
// of a float32 (sign, 8 exponent bits, 7 mantissa bits), rounded to nearest, ties to even. This
// is what AVX512_BF16's VCVTNEPS2BF16 computes, and so oneDNN's float32 → bf16 reorders on the
// CPUs bf16 runs on: denormal inputs become a zero of their sign and a NaN stays a (quiet) NaN.
// A kernel that writes its float32 output can write this rounding beside it in the same pass, so
// that the bf16 convolution reading it needs no rounding copy of its own (kernels/cpu/conv2d.h).
#include <bit>
#include <cstdint>

namespace bt::cpu {

// Branch-free (selects, not jumps), so that it vectorises inside the kernels' SIMD loops.
inline uint16_t to_bf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const uint32_t magnitude = u & 0x7fffffffu;
  // Adding 0x7fff rounds up past the halfway point; the lowest kept bit breaks a tie to even.
  // Finite values that round past the largest bf16 carry into the exponent and become ±inf.
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const uint32_t quiet_nan = (u >> 16) | 0x40u;  // keeps the sign, sets the quiet bit
  const uint32_t signed_zero = (u >> 16) & 0x8000u;
  return uint16_t(magnitude > 0x7f800000u ? quiet_nan : magnitude < 0x00800000u ? signed_zero : rounded);
}

inline float from_bf16(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }

}  // namespace bt::cpu
