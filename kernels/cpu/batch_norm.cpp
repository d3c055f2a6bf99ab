#include "kernels/cpu/batch_norm.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "kernels/cpu/bf16.h"

namespace bt::cpu {

// ---------------------------------------------------------------------------------------------
// References: one channel at a time, every sum in double.

template <class T>
void batch_norm_forward_train_ref(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                                  const T* beta, T eps, T momentum, T* y, T* save_mean,
                                  T* save_invstd, T* running_mean, T* running_var, ChannelLayout layout) {
  const int64_t M = N * HW;
  for (int64_t c = 0; c < C; ++c) {
    double s = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) s += x[channel_offset(layout, C, HW, n, c, i)];
    const double mean = s / double(M);
    double q = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const double d = x[channel_offset(layout, C, HW, n, c, i)] - mean;
        q += d * d;
      }
    const double var = q / double(M);
    const double invstd = 1.0 / std::sqrt(var + double(eps));
    const double g = gamma ? double(gamma[c]) : 1.0, b = beta ? double(beta[c]) : 0.0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t k = channel_offset(layout, C, HW, n, c, i);
        y[k] = T(g * (x[k] - mean) * invstd + b);
      }
    save_mean[c] = T(mean);
    save_invstd[c] = T(invstd);
    const double m = momentum;
    if (running_mean) running_mean[c] = T((1 - m) * running_mean[c] + m * mean);
    if (running_var) {
      const double unbiased = M > 1 ? var * double(M) / double(M - 1) : var;
      running_var[c] = T((1 - m) * running_var[c] + m * unbiased);
    }
  }
}

template <class T>
void batch_norm_backward_train_ref(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                                   const T* gamma, const T* save_mean, const T* save_invstd,
                                   T* dx, T* dgamma, T* dbeta, ChannelLayout layout) {
  const double M = double(N * HW);
  for (int64_t c = 0; c < C; ++c) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    const double g = gamma ? double(gamma[c]) : 1.0;
    double sdy = 0, sdyxh = 0;  // Σ dy, Σ dy x̂
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t k = channel_offset(layout, C, HW, n, c, i);
        sdy += dy[k];
        sdyxh += dy[k] * (x[k] - mean) * invstd;
      }
    // dx = γ invstd / M · (M dy − Σ dy − x̂ Σ(dy x̂))
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t k = channel_offset(layout, C, HW, n, c, i);
        const double xh = (x[k] - mean) * invstd;
        dx[k] = T(g * invstd / M * (M * dy[k] - sdy - xh * sdyxh));
      }
    if (dgamma) dgamma[c] = T(sdyxh);
    if (dbeta) dbeta[c] = T(sdy);
  }
}

template <class T>
void batch_norm_forward_eval_ref(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                                 const T* beta, const T* running_mean, const T* running_var,
                                 T eps, T* y, ChannelLayout layout) {
  for (int64_t c = 0; c < C; ++c) {
    const double mean = running_mean[c];
    const double invstd = 1.0 / std::sqrt(double(running_var[c]) + double(eps));
    const double g = gamma ? double(gamma[c]) : 1.0, b = beta ? double(beta[c]) : 0.0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t k = channel_offset(layout, C, HW, n, c, i);
        y[k] = T(g * (x[k] - mean) * invstd + b);
      }
  }
}

template <class T>
void batch_norm_backward_eval_ref(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                                  const T* gamma, const T* running_mean, const T* running_var,
                                  T eps, T* dx, T* dgamma, T* dbeta, ChannelLayout layout) {
  for (int64_t c = 0; c < C; ++c) {
    const double mean = running_mean[c];
    const double invstd = 1.0 / std::sqrt(double(running_var[c]) + double(eps));
    const double g = gamma ? double(gamma[c]) : 1.0;
    double sdy = 0, sdyxh = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t k = channel_offset(layout, C, HW, n, c, i);
        sdy += dy[k];
        sdyxh += dy[k] * (x[k] - mean) * invstd;
        dx[k] = T(dy[k] * g * invstd);
      }
    if (dgamma) dgamma[c] = T(sdyxh);
    if (dbeta) dbeta[c] = T(sdy);
  }
}

// ---------------------------------------------------------------------------------------------
// Fast path: every kernel is (1) per-channel sums, (2) per-channel coefficients, (3) one
// elementwise pass over the tensor in memory order.
//  - HW > 1: each row (n, c) of HW contiguous values gets its partial sums (SIMD over HW; the
//    row is still in cache for its second pass), stored per row and combined per channel.
//    Work is split over the N*C rows, so it balances for any C (even C < threads) and every
//    pass streams memory in order. Single-threaded it runs at about the memory bandwidth
//    (N 128, C 64, 32×32 fp32: forward ≈ 11 ms CPU time here, the reference ≈ 27 ms).
//  - HW = 1 (BatchNorm1d): a channel's values are C apart, so blocks of kBlock1d channels walk
//    the N rows with SIMD over the channels of the block for the sums; the elementwise pass
//    goes row by row with SIMD over C.
// Passes run in parallel (OpenMP) once the tensor is big enough to pay for the threads.

namespace {

constexpr int64_t kBlock1d = 64;
constexpr int64_t kParallelMin = 1 << 15;

// (Σ_i fa(i), Σ_i fb(i)) over i < n, given add(i, a, b) that adds both terms: SIMD sums in T over
// blocks of Block values, the block sums added in double. A plain float sum of n values errs by
// up to ~n·ε·Σ|term|; blocking bounds that by Block·ε while the inner loop stays vectorised (a
// double accumulator in the loop is ~5× slower). The statistics' terms do not cancel (Σ x about
// a mean, Σ (x − m)² ≥ 0): blocks of 256. The gradient sums do (|Σ dy| ≪ Σ |dy|): blocks of 32,
// small enough that even an unvectorised build (sanitizers) keeps them to ~1e-5.
template <class T, int64_t Block, class Add>
std::pair<double, double> blocked_sums(int64_t n, Add add) {
  double a = 0, b = 0;
  for (int64_t i0 = 0; i0 < n; i0 += Block) {
    const int64_t i1 = std::min(n, i0 + Block);
    T sa = 0, sb = 0;
#pragma omp simd reduction(+ : sa, sb)
    for (int64_t i = i0; i < i1; ++i) add(i, sa, sb);
    a += sa;
    b += sb;
  }
  return {a, b};
}

// The nChw16c form of blocked_sums: per lane l < 16 of one channel block (HW positions of 16
// interleaved channels), (Σ_i fa(16i + l), Σ_i fb(16i + l)) into a[l], b[l]; add(k, l, sa, sb)
// adds both terms of element k, lane l. SIMD over the 16 lanes, Block positions summed in T.
template <class T, int64_t Block, class Add>
void lane_sums(int64_t HW, Add add, double* a, double* b) {
  constexpr int64_t L = kChannelBlock;
  for (int64_t l = 0; l < L; ++l) a[l] = b[l] = 0;
  for (int64_t i0 = 0; i0 < HW; i0 += Block) {
    const int64_t i1 = std::min(HW, i0 + Block);
    T sa[L] = {}, sb[L] = {};
    for (int64_t i = i0; i < i1; ++i)
#pragma omp simd
      for (int64_t l = 0; l < L; ++l) add(i * L + l, l, sa[l], sb[l]);
    for (int64_t l = 0; l < L; ++l) a[l] += sa[l], b[l] += sb[l];
  }
}

template <class T, bool Relu>
inline T masked(T g, const T* y, int64_t i) {
  return Relu && !(y[i] > T(0)) ? T(0) : g;
}

// Per-channel mean and biased variance of x (N, C, HW) -> mean, var (C).
template <class T>
void channel_stats(ChannelLayout layout, int64_t N, int64_t C, int64_t HW, const T* x, double* mean,
                   double* var) {
  const bool par = N * C * HW >= kParallelMin;
  const double M = double(N * HW);
  if (HW == 1) {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t c0 = 0; c0 < C; c0 += kBlock1d) {
      const int64_t nc = std::min(kBlock1d, C - c0);
      double* mu = mean + c0;
      double* q = var + c0;
      std::fill(mu, mu + nc, 0.0);
      std::fill(q, q + nc, 0.0);
      for (int64_t n = 0; n < N; ++n) {
        const T* r = x + n * C + c0;
#pragma omp simd
        for (int64_t c = 0; c < nc; ++c) mu[c] += r[c];
      }
      for (int64_t c = 0; c < nc; ++c) mu[c] /= M;
      for (int64_t n = 0; n < N; ++n) {  // second pass: Σ (x − mean)², no cancellation
        const T* r = x + n * C + c0;
#pragma omp simd
        for (int64_t c = 0; c < nc; ++c) q[c] += (r[c] - mu[c]) * (r[c] - mu[c]);
      }
      for (int64_t c = 0; c < nc; ++c) q[c] /= M;
    }
    return;
  }
  // Row mean m_r and M2_r = Σ (x − m_r)², then per channel (exact decomposition of the sum of
  // squares into within-row and between-row parts):
  //   mean = Σ_n m_r / N,   M·var = Σ_n M2_r + HW Σ_n (m_r − mean)².
  std::vector<double> rmean(N * C), rm2(N * C);  // row (n, c) at n·C + c in both layouts
  if (layout == ChannelLayout::nChw16c) {
    // Block r = (n, c / 16) holds rows n·C + 16r' .. +15 interleaved: r·16 + l = n·C + c.
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < N * C / kChannelBlock; ++r) {
      const T* blk = x + r * kChannelBlock * HW;
      double m[kChannelBlock], q[kChannelBlock], unused[kChannelBlock];
      lane_sums<T, 256>(HW, [=](int64_t k, int64_t, T& s, T&) { s += blk[k]; }, m, unused);
      T mt[kChannelBlock];
      for (int64_t l = 0; l < kChannelBlock; ++l) mt[l] = T(m[l] /= double(HW));
      lane_sums<T, 256>(HW, [&](int64_t k, int64_t l, T& s, T&) { s += (blk[k] - mt[l]) * (blk[k] - mt[l]); }, q,
                        unused);
      for (int64_t l = 0; l < kChannelBlock; ++l) {
        rmean[r * kChannelBlock + l] = m[l];
        rm2[r * kChannelBlock + l] = q[l];
      }
    }
  } else {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < N * C; ++r) {
      const T* row = x + r * HW;
      const double m = blocked_sums<T, 256>(HW, [=](int64_t i, T& s, T&) { s += row[i]; }).first / HW;
      const T mt = T(m);
      const double q =
          blocked_sums<T, 256>(HW, [=](int64_t i, T& q, T&) { q += (row[i] - mt) * (row[i] - mt); })
              .first;
      rmean[r] = m;  // q is about mt, m rounded to T: too large by HW·(m − mt)², negligible
      rm2[r] = q;
    }
  }
  for (int64_t c = 0; c < C; ++c) {
    double s = 0, q = 0;
    for (int64_t n = 0; n < N; ++n) s += rmean[n * C + c];
    mean[c] = s / double(N);
    for (int64_t n = 0; n < N; ++n) {
      const double d = rmean[n * C + c] - mean[c];
      q += rm2[n * C + c] + double(HW) * d * d;
    }
    var[c] = q / M;
  }
}

// Per channel Σ dy' and Σ dy' (x − mean), dy' = dy masked by (y > 0) when Relu.
//   dy, x, y (N, C, HW); mean (C) -> sdy, sdx (C)
template <class T, bool Relu>
void channel_grad_sums(ChannelLayout layout, int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                       const T* y, const T* mean, double* sdy, double* sdx) {
  const bool par = N * C * HW >= kParallelMin;
  if (HW == 1) {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t c0 = 0; c0 < C; c0 += kBlock1d) {
      const int64_t nc = std::min(kBlock1d, C - c0);
      double* a = sdy + c0;
      double* b = sdx + c0;
      const T* mu = mean + c0;
      std::fill(a, a + nc, 0.0);
      std::fill(b, b + nc, 0.0);
      for (int64_t n = 0; n < N; ++n) {
        const int64_t o = n * C + c0;
#pragma omp simd
        for (int64_t c = 0; c < nc; ++c) {
          const T g = masked<T, Relu>(dy[o + c], y, o + c);
          a[c] += g;
          b[c] += g * (x[o + c] - mu[c]);
        }
      }
    }
    return;
  }
  std::vector<double> ra(N * C), rb(N * C);  // per-row partial sums, row (n, c) at n·C + c
  if (layout == ChannelLayout::nChw16c) {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < N * C / kChannelBlock; ++r) {
      const int64_t o = r * kChannelBlock * HW, c0 = (r % (C / kChannelBlock)) * kChannelBlock;
      const T* mu = mean + c0;
      lane_sums<T, 32>(HW, [=](int64_t k, int64_t l, T& sa, T& sb) {
        const T g = masked<T, Relu>(dy[o + k], y, o + k);
        sa += g;
        sb += g * (x[o + k] - mu[l]);
      }, ra.data() + r * kChannelBlock, rb.data() + r * kChannelBlock);
    }
  } else {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < N * C; ++r) {
      const int64_t o = r * HW;
      const T mu = mean[r % C];
      const auto [a, b] = blocked_sums<T, 32>(HW, [=](int64_t i, T& sa, T& sb) {
        const T g = masked<T, Relu>(dy[o + i], y, o + i);
        sa += g;
        sb += g * (x[o + i] - mu);
      });
      ra[r] = a;
      rb[r] = b;
    }
  }
  for (int64_t c = 0; c < C; ++c) {
    double a = 0, b = 0;
    for (int64_t n = 0; n < N; ++n) a += ra[n * C + c], b += rb[n * C + c];
    sdy[c] = a;
    sdx[c] = b;
  }
}

// out = p·u' + q·v + k per channel, with u' = u masked by (y > 0) when MaskIn, and the result
// clamped at 0 when ReluOut; v may be nullptr (no q·v term). This one pass is the forward
// (x·scale + shift) and the backward (a dy' + b x + k). out may alias u (elementwise). With
// Bf16 it also writes out's bf16 rounding to out_bf16 (kernels/cpu/bf16.h).
//   u, v, y, out, out_bf16 (N, C, HW); p, q, k (C)
template <class T, bool MaskIn, bool ReluOut, bool Bf16>
void channel_axpb_pass(ChannelLayout layout, int64_t N, int64_t C, int64_t HW, const T* u, const T* v,
                       const T* y, const T* p, const T* q, const T* k, T* out, uint16_t* out_bf16) {
  auto put = [=](int64_t i, T pc, T qc, T kc) {
    const T r = pc * masked<T, MaskIn>(u[i], y, i) + (v ? qc * v[i] : T(0)) + kc;
    out[i] = ReluOut ? std::max(r, T(0)) : r;
    if constexpr (Bf16) out_bf16[i] = to_bf16(float(out[i]));
  };
  const bool par = N * C * HW >= kParallelMin;
  if (HW == 1) {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t n = 0; n < N; ++n) {
      const int64_t o = n * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) put(o + c, p[c], v ? q[c] : T(0), k[c]);
    }
    return;
  }
  if (layout == ChannelLayout::nChw16c) {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < N * C / kChannelBlock; ++r) {
      const int64_t o = r * kChannelBlock * HW, c0 = (r % (C / kChannelBlock)) * kChannelBlock;
      const T *pc = p + c0, *qc = v ? q + c0 : nullptr, *kc = k + c0;
      for (int64_t i = 0; i < HW; ++i)
#pragma omp simd
        for (int64_t l = 0; l < kChannelBlock; ++l) put(o + i * kChannelBlock + l, pc[l], qc ? qc[l] : T(0), kc[l]);
    }
    return;
  }
#pragma omp parallel for schedule(static) if (par)
  for (int64_t r = 0; r < N * C; ++r) {
    const int64_t o = r * HW, c = r % C;
    const T pc = p[c], qc = v ? q[c] : T(0), kc = k[c];
#pragma omp simd
    for (int64_t i = 0; i < HW; ++i) put(o + i, pc, qc, kc);
  }
}

template <class T, bool MaskIn, bool ReluOut>
void channel_axpb(ChannelLayout layout, int64_t N, int64_t C, int64_t HW, const T* u, const T* v,
                  const T* y, const T* p, const T* q, const T* k, T* out, uint16_t* out_bf16 = nullptr) {
  if (out_bf16)
    channel_axpb_pass<T, MaskIn, ReluOut, true>(layout, N, C, HW, u, v, y, p, q, k, out, out_bf16);
  else
    channel_axpb_pass<T, MaskIn, ReluOut, false>(layout, N, C, HW, u, v, y, p, q, k, out, nullptr);
}

template <class T, bool Relu>
void forward_train(ChannelLayout layout, int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                   const T* beta, T eps, T momentum, T* y, T* save_mean, T* save_invstd, T* running_mean,
                   T* running_var, uint16_t* y_bf16) {
  const int64_t M = N * HW;
  std::vector<double> mean(C), var(C);
  std::vector<T> scale(C), shift(C);
  channel_stats(layout, N, C, HW, x, mean.data(), var.data());
  for (int64_t c = 0; c < C; ++c) {
    const double invstd = 1.0 / std::sqrt(var[c] + double(eps));
    const double g = gamma ? double(gamma[c]) : 1.0, b = beta ? double(beta[c]) : 0.0;
    scale[c] = T(g * invstd);  // γ x̂ + β = x·(γ invstd) + (β − mean γ invstd)
    shift[c] = T(b - mean[c] * g * invstd);
    save_mean[c] = T(mean[c]);
    save_invstd[c] = T(invstd);
    const double m = momentum;
    if (running_mean) running_mean[c] = T((1 - m) * running_mean[c] + m * mean[c]);
    if (running_var) {
      const double unbiased = M > 1 ? var[c] * double(M) / double(M - 1) : var[c];
      running_var[c] = T((1 - m) * running_var[c] + m * unbiased);
    }
  }
  channel_axpb<T, false, Relu>(layout, N, C, HW, x, nullptr, nullptr, scale.data(), nullptr,
                              shift.data(), y, y_bf16);
}

// Shared by the training and eval backward: stats(c) gives {mean, invstd} of channel c.
// Training: dx = a dy + b x + k with a = γ invstd, b = −γ invstd³ Σdy(x−mean)/M,
//           k = −γ invstd Σdy/M − b·mean  (the formula in the header, expanded in x).
// Eval:     dx = γ invstd dy (b = k = 0).
template <class T, bool Relu, class Stats>
void backward(ChannelLayout layout, bool train, int64_t N, int64_t C, int64_t HW, const T* dy, const T* x, const T* y,
              const T* gamma, Stats stats, T* dx, T* dgamma, T* dbeta, uint16_t* dx_bf16 = nullptr) {
  const double M = double(N * HW);
  std::vector<T> mean(C), a(C), b(C), k(C);
  std::vector<double> invstd(C), sdy(C), sdx(C);
  for (int64_t c = 0; c < C; ++c) {
    const auto [mu, is] = stats(c);
    mean[c] = T(mu);
    invstd[c] = is;
  }
  if (train || dgamma || dbeta)
    channel_grad_sums<T, Relu>(layout, N, C, HW, dy, x, y, mean.data(), sdy.data(), sdx.data());
  for (int64_t c = 0; c < C; ++c) {
    const double g = gamma ? double(gamma[c]) : 1.0, is = invstd[c];
    const double bc = train ? -g * is * is * is * sdx[c] / M : 0.0;
    a[c] = T(g * is);
    b[c] = T(bc);
    k[c] = T(train ? -g * is * sdy[c] / M - bc * double(mean[c]) : 0.0);
    if (dgamma) dgamma[c] = T(is * sdx[c]);  // Σ dy x̂ = invstd Σ dy (x − mean)
    if (dbeta) dbeta[c] = T(sdy[c]);
  }
  channel_axpb<T, Relu, false>(layout, N, C, HW, dy, train ? x : nullptr, y, a.data(), b.data(),
                               k.data(), dx, dx_bf16);
}

template <class T>
auto saved_stats(const T* save_mean, const T* save_invstd) {
  return [=](int64_t c) { return std::pair<double, double>(save_mean[c], save_invstd[c]); };
}

template <class T>
auto running_stats(const T* running_mean, const T* running_var, T eps) {
  return [=](int64_t c) {
    return std::pair<double, double>(running_mean[c],
                                     1.0 / std::sqrt(double(running_var[c]) + double(eps)));
  };
}

}  // namespace

template <class T>
void batch_norm_forward_train(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                              const T* beta, T eps, T momentum, T* y, T* save_mean,
                              T* save_invstd, T* running_mean, T* running_var, ChannelLayout layout,
                              uint16_t* y_bf16) {
  forward_train<T, false>(layout, N, C, HW, x, gamma, beta, eps, momentum, y, save_mean, save_invstd,
                          running_mean, running_var, y_bf16);
}

template <class T>
void batch_norm_relu_forward_train(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                                   const T* beta, T eps, T momentum, T* y, T* save_mean,
                                   T* save_invstd, T* running_mean, T* running_var, ChannelLayout layout,
                                   uint16_t* y_bf16) {
  forward_train<T, true>(layout, N, C, HW, x, gamma, beta, eps, momentum, y, save_mean, save_invstd,
                         running_mean, running_var, y_bf16);
}

template <class T>
void batch_norm_backward_train(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                               const T* gamma, const T* save_mean, const T* save_invstd, T* dx,
                               T* dgamma, T* dbeta, ChannelLayout layout, uint16_t* dx_bf16) {
  backward<T, false>(layout, true, N, C, HW, dy, x, static_cast<const T*>(nullptr), gamma,
                     saved_stats(save_mean, save_invstd), dx, dgamma, dbeta, dx_bf16);
}

template <class T>
void batch_norm_relu_backward_train(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                                    const T* y, const T* gamma, const T* save_mean,
                                    const T* save_invstd, T* dx, T* dgamma, T* dbeta, ChannelLayout layout,
                                    uint16_t* dx_bf16) {
  backward<T, true>(layout, true, N, C, HW, dy, x, y, gamma, saved_stats(save_mean, save_invstd), dx,
                    dgamma, dbeta, dx_bf16);
}

template <class T>
void batch_norm_forward_eval(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                             const T* beta, const T* running_mean, const T* running_var, T eps,
                             T* y, ChannelLayout layout) {
  std::vector<T> scale(C), shift(C);
  for (int64_t c = 0; c < C; ++c) {
    const double invstd = 1.0 / std::sqrt(double(running_var[c]) + double(eps));
    const double g = gamma ? double(gamma[c]) : 1.0, b = beta ? double(beta[c]) : 0.0;
    scale[c] = T(g * invstd);
    shift[c] = T(b - double(running_mean[c]) * g * invstd);
  }
  channel_axpb<T, false, false>(layout, N, C, HW, x, nullptr, nullptr, scale.data(), nullptr,
                                shift.data(), y);
}

template <class T>
void batch_norm_backward_eval(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                              const T* gamma, const T* running_mean, const T* running_var, T eps,
                              T* dx, T* dgamma, T* dbeta, ChannelLayout layout) {
  backward<T, false>(layout, false, N, C, HW, dy, x, static_cast<const T*>(nullptr), gamma,
                     running_stats(running_mean, running_var, eps), dx, dgamma, dbeta);
}

#define BT_INSTANTIATE(T)                                                                                              \
  template void batch_norm_forward_train_ref<T>(int64_t, int64_t, int64_t, const T*, const T*,                         \
                                                const T*, T, T, T*, T*, T*, T*, T*, ChannelLayout);                    \
  template void batch_norm_forward_train<T>(int64_t, int64_t, int64_t, const T*, const T*,                             \
                                            const T*, T, T, T*, T*, T*, T*, T*, ChannelLayout, uint16_t*);             \
  template void batch_norm_relu_forward_train<T>(int64_t, int64_t, int64_t, const T*, const T*,                        \
                                                 const T*, T, T, T*, T*, T*, T*, T*, ChannelLayout, uint16_t*);        \
  template void batch_norm_backward_train_ref<T>(int64_t, int64_t, int64_t, const T*, const T*,                        \
                                                 const T*, const T*, const T*, T*, T*, T*, ChannelLayout);             \
  template void batch_norm_backward_train<T>(int64_t, int64_t, int64_t, const T*, const T*,                            \
                                             const T*, const T*, const T*, T*, T*, T*, ChannelLayout, uint16_t*);      \
  template void batch_norm_relu_backward_train<T>(int64_t, int64_t, int64_t, const T*,                                 \
                                                  const T*, const T*, const T*, const T*,                              \
                                                  const T*, T*, T*, T*, ChannelLayout, uint16_t*);                     \
  template void batch_norm_forward_eval_ref<T>(int64_t, int64_t, int64_t, const T*, const T*,                          \
                                               const T*, const T*, const T*, T, T*, ChannelLayout);                    \
  template void batch_norm_forward_eval<T>(int64_t, int64_t, int64_t, const T*, const T*,                              \
                                           const T*, const T*, const T*, T, T*, ChannelLayout);                        \
  template void batch_norm_backward_eval_ref<T>(int64_t, int64_t, int64_t, const T*, const T*,                         \
                                                const T*, const T*, const T*, T, T*, T*, T*, ChannelLayout);           \
  template void batch_norm_backward_eval<T>(int64_t, int64_t, int64_t, const T*, const T*,                             \
                                            const T*, const T*, const T*, T, T*, T*, T*, ChannelLayout);
BT_INSTANTIATE(float)
BT_INSTANTIATE(double)
#undef BT_INSTANTIATE

}  // namespace bt::cpu
