#include "kernels/cpu/channel_layout.h"

namespace bt::cpu {

// One (n, channel block) at a time: a 16 × HW transpose, parallel over the N·C/16 blocks.
template <class T>
void nchw_to_nChw16c(int64_t N, int64_t C, int64_t HW, const T* src, T* dst) {
  const int64_t blocks = N * (C / kChannelBlock);
#pragma omp parallel for schedule(static) if (blocks * HW >= (1 << 14))
  for (int64_t b = 0; b < blocks; ++b) {
    const T* s = src + b * kChannelBlock * HW;  // channels b·16 .. b·16+15 of NCHW: 16 planes
    T* d = dst + b * kChannelBlock * HW;
    for (int64_t i = 0; i < HW; ++i)
#pragma omp simd
      for (int64_t l = 0; l < kChannelBlock; ++l) d[i * kChannelBlock + l] = s[l * HW + i];
  }
}

template <class T>
void nChw16c_to_nchw(int64_t N, int64_t C, int64_t HW, const T* src, T* dst) {
  const int64_t blocks = N * (C / kChannelBlock);
#pragma omp parallel for schedule(static) if (blocks * HW >= (1 << 14))
  for (int64_t b = 0; b < blocks; ++b) {
    const T* s = src + b * kChannelBlock * HW;
    T* d = dst + b * kChannelBlock * HW;
    for (int64_t l = 0; l < kChannelBlock; ++l)
#pragma omp simd
      for (int64_t i = 0; i < HW; ++i) d[l * HW + i] = s[i * kChannelBlock + l];
  }
}

template void nchw_to_nChw16c<float>(int64_t, int64_t, int64_t, const float*, float*);
template void nchw_to_nChw16c<double>(int64_t, int64_t, int64_t, const double*, double*);
template void nChw16c_to_nchw<float>(int64_t, int64_t, int64_t, const float*, float*);
template void nChw16c_to_nchw<double>(int64_t, int64_t, int64_t, const double*, double*);

}  // namespace bt::cpu
