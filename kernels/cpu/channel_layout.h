#pragma once
// The two layouts of an (N, C, H, W) activation on the CPU.
//   nchw     plain row-major: element (n, c, s) at (n·C + c)·HW + s, s = h·W + w
//   nChw16c  oneDNN's blocked layout, C a multiple of 16: channels in blocks of 16 that are
//            innermost, element (n, c, s) at ((n·C/16 + c/16)·HW + s)·16 + c mod 16
// oneDNN's AVX-512 convolutions work in nChw16c; batch norm, ReLU and pooling read it as well
// (kernels/cpu/batch_norm.h, pool.h), so that activations stay blocked from one convolution to
// the next and are not reordered around every layer (docs/design.md §3).
#include <cstdint>

namespace bt::cpu {

enum class ChannelLayout { nchw, nChw16c };
constexpr int64_t kChannelBlock = 16;

// Offset of element (n, c, s) of an (N, C, HW) tensor in the given layout.
inline int64_t channel_offset(ChannelLayout layout, int64_t C, int64_t HW, int64_t n, int64_t c, int64_t s) {
  if (layout == ChannelLayout::nchw) return (n * C + c) * HW + s;
  return ((n * (C / kChannelBlock) + c / kChannelBlock) * HW + s) * kChannelBlock + c % kChannelBlock;
}

// The same (N, C, HW) values from one layout into the other (=); C % 16 == 0. No aliasing.
template <class T>
void nchw_to_nChw16c(int64_t N, int64_t C, int64_t HW, const T* src, T* dst);
template <class T>
void nChw16c_to_nchw(int64_t N, int64_t C, int64_t HW, const T* src, T* dst);

}  // namespace bt::cpu
