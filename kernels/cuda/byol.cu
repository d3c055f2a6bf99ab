// BYOL / SimSiam regression loss with its gradient wrt p (t constant), one pass: a warp per
// row reduces ||p||², ||t||², p·t by shuffles, then writes the row's dp (formulas in
// kernels/cpu/ssl_loss_kernels.h); per-block loss partials are summed in double by
// sum_partials_kernel.
#include <algorithm>

#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include "kernels/cuda/ssl_common.cuh"
#include "kernels/cuda/ssl_loss_launchers.h"

namespace bt::cuda {
namespace {

constexpr float kNormEps = 1e-12f;  // bt::cpu::kByolNormEps
constexpr int kRowsPerBlock = 8;    // block (32, 8): a warp per row

// block (32, 8), grid (blocks): warp threadIdx.y takes rows 8·blockIdx.x + y, + 8·gridDim.x, ...;
// lanes stride the D columns. With s = −2g/N, c = p̂·t̂, dpn = max(||p||, eps), dtn likewise:
//   dp = s (t̂ − p̂ c)/||p|| = (s/(dpn dtn)) t − (s c/||p||²) p;  ||p|| ≤ eps: (s/(eps dtn)) t.
//   p, t (N, D); dp (N, D) (=) or nullptr; part (gridDim.x) (=): the block's Σ (2 − 2c).
__global__ void byol_kernel(int N, int D, const float* p, const float* t, float s, float* dp,
                            float* part) {
  const int lane = threadIdx.x;
  float loss = 0.0f;  // this warp's rows (every lane holds it)
  for (int i = blockIdx.x * kRowsPerBlock + threadIdx.y; i < N; i += gridDim.x * kRowsPerBlock) {
    const float* pi = p + int64_t(i) * D;  // (D)
    const float* ti = t + int64_t(i) * D;  // (D)
    float pp = 0.0f, tt = 0.0f, pt = 0.0f;
    for (int d = lane; d < D; d += 32) {
      pp += pi[d] * pi[d];
      tt += ti[d] * ti[d];
      pt += pi[d] * ti[d];
    }
    pp = warp_sum(pp);
    tt = warp_sum(tt);
    pt = warp_sum(pt);
    const float np = sqrtf(pp), dpn = fmaxf(np, kNormEps), dtn = fmaxf(sqrtf(tt), kNormEps);
    const float c = pt / dpn / dtn;
    loss += 2.0f - 2.0f * c;
    if (dp) {
      const float at = s / dpn / dtn, ap = np > kNormEps ? -s * c / np / np : 0.0f;
      float* di = dp + int64_t(i) * D;  // (D)
      for (int d = lane; d < D; d += 32) di[d] = at * ti[d] + ap * pi[d];
    }
  }
  loss = block_sum(lane == 0 ? loss : 0.0f);  // one copy per warp
  if (flat_thread() == 0) part[blockIdx.x] = loss;
}

}  // namespace

template <class B>
float byol_loss(int64_t N, int64_t D, const float* p, const float* t, float g, float* dp,
                float* workspace, void* stream) {
  check_args("byol_loss", N, D, workspace);
  const int64_t max_blocks = simt::small_grids() ? 64 : 1024;  // byol_workspace_size: ≤ 1024
  const int blocks = int(std::min<int64_t>((N + kRowsPerBlock - 1) / kRowsPerBlock, max_blocks));
  double* sum = reinterpret_cast<double*>(workspace);  // (1): Σ (2 − 2c)
  float* part = workspace + 4;                         // (blocks)
  simt::launch(byol_kernel, blocks, dim3(32, kRowsPerBlock), 0, stream, int(N), int(D), p, t,
               -2.0f * g / float(N), dp, part);
  simt::launch(sum_partials_kernel, 1, kSumThreads, 0, stream, blocks, 1, part, sum);
  double total = 0;
  read_back(&total, sum, 1, stream);
  return float(total / double(N));
}

template float byol_loss<ThisBackend>(int64_t, int64_t, const float*, const float*, float, float*,
                                      float*, void*);

}  // namespace bt::cuda
