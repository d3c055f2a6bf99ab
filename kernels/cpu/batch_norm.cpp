#include "kernels/cpu/batch_norm.h"

#include <algorithm>
#include <cmath>

namespace bt::cpu {

// ---------------------------------------------------------------------------------------------
// References: one channel at a time, every sum in double.

template <class T>
void batch_norm_forward_train_ref(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                                  const T* beta, T eps, T momentum, T* y, T* save_mean,
                                  T* save_invstd, T* running_mean, T* running_var) {
  const int64_t M = N * HW;
  for (int64_t c = 0; c < C; ++c) {
    double s = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) s += x[(n * C + c) * HW + i];
    const double mean = s / double(M);
    double q = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const double d = x[(n * C + c) * HW + i] - mean;
        q += d * d;
      }
    const double var = q / double(M);
    const double invstd = 1.0 / std::sqrt(var + double(eps));
    const double g = gamma ? double(gamma[c]) : 1.0, b = beta ? double(beta[c]) : 0.0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t k = (n * C + c) * HW + i;
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
                                   T* dx, T* dgamma, T* dbeta) {
  const double M = double(N * HW);
  for (int64_t c = 0; c < C; ++c) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    const double g = gamma ? double(gamma[c]) : 1.0;
    double sdy = 0, sdyxh = 0;  // Σ dy, Σ dy x̂
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t k = (n * C + c) * HW + i;
        sdy += dy[k];
        sdyxh += dy[k] * (x[k] - mean) * invstd;
      }
    // dx = γ invstd / M · (M dy − Σ dy − x̂ Σ(dy x̂))
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t k = (n * C + c) * HW + i;
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
                                 T eps, T* y) {
  for (int64_t c = 0; c < C; ++c) {
    const double mean = running_mean[c];
    const double invstd = 1.0 / std::sqrt(double(running_var[c]) + double(eps));
    const double g = gamma ? double(gamma[c]) : 1.0, b = beta ? double(beta[c]) : 0.0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t k = (n * C + c) * HW + i;
        y[k] = T(g * (x[k] - mean) * invstd + b);
      }
  }
}

template <class T>
void batch_norm_backward_eval_ref(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                                  const T* gamma, const T* running_mean, const T* running_var,
                                  T eps, T* dx, T* dgamma, T* dbeta) {
  for (int64_t c = 0; c < C; ++c) {
    const double mean = running_mean[c];
    const double invstd = 1.0 / std::sqrt(double(running_var[c]) + double(eps));
    const double g = gamma ? double(gamma[c]) : 1.0;
    double sdy = 0, sdyxh = 0;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t k = (n * C + c) * HW + i;
        sdy += dy[k];
        sdyxh += dy[k] * (x[k] - mean) * invstd;
        dx[k] = T(dy[k] * g * invstd);
      }
    if (dgamma) dgamma[c] = T(sdyxh);
    if (dbeta) dbeta[c] = T(sdy);
  }
}

// ---------------------------------------------------------------------------------------------
// Fast path. Work is split into blocks of channels [c0, c0 + nc). With HW > 1 a block is one
// channel and each of its N rows of HW contiguous values is reduced with SIMD over HW (float
// partial sums per row, added into double per channel). With HW = 1 (BatchNorm1d) a channel's
// values are strided by C, so a block is kBlock1d channels walked row by row with SIMD over
// the channels. Blocks run in parallel (OpenMP) once the tensor is big enough to pay for it.

namespace {

constexpr int64_t kBlock1d = 64;
constexpr int64_t kParallelMin = 1 << 15;

struct Shape {
  int64_t N, C, HW;
  const int64_t block = HW == 1 ? kBlock1d : 1;
  int64_t row(int64_t n, int64_t c) const { return (n * C + c) * HW; }
};

// Per-channel mean and biased variance (two passes: Σ x, then Σ (x − mean)²).
template <class T>
void block_stats(const Shape& s, const T* x, int64_t c0, int64_t nc, double* mean, double* var) {
  const double M = double(s.N * s.HW);
  std::fill(mean, mean + nc, 0.0);
  std::fill(var, var + nc, 0.0);
  if (s.HW == 1) {
    for (int64_t n = 0; n < s.N; ++n) {
      const T* r = x + s.row(n, c0);
#pragma omp simd
      for (int64_t c = 0; c < nc; ++c) mean[c] += r[c];
    }
    for (int64_t c = 0; c < nc; ++c) mean[c] /= M;
    for (int64_t n = 0; n < s.N; ++n) {
      const T* r = x + s.row(n, c0);
#pragma omp simd
      for (int64_t c = 0; c < nc; ++c) var[c] += (r[c] - mean[c]) * (r[c] - mean[c]);
    }
  } else {
    for (int64_t c = 0; c < nc; ++c) {
      for (int64_t n = 0; n < s.N; ++n) {
        const T* r = x + s.row(n, c0 + c);
        T acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < s.HW; ++i) acc += r[i];
        mean[c] += acc;
      }
      mean[c] /= M;
      const T mu = T(mean[c]);
      for (int64_t n = 0; n < s.N; ++n) {
        const T* r = x + s.row(n, c0 + c);
        T acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < s.HW; ++i) acc += (r[i] - mu) * (r[i] - mu);
        var[c] += acc;
      }
    }
  }
  for (int64_t c = 0; c < nc; ++c) var[c] /= M;
}

template <class T, bool Relu>
inline T relu_mask(T g, const T* y, int64_t i) {
  return Relu && !(y[i] > T(0)) ? T(0) : g;
}

// y = x·scale + shift per channel (then max(0, ·) when Relu).
template <class T, bool Relu>
void block_apply(const Shape& s, const T* x, int64_t c0, int64_t nc, const T* scale,
                 const T* shift, T* y) {
  for (int64_t n = 0; n < s.N; ++n) {
    if (s.HW == 1) {
      const T* r = x + s.row(n, c0);
      T* o = y + s.row(n, c0);
#pragma omp simd
      for (int64_t c = 0; c < nc; ++c) {
        const T v = r[c] * scale[c] + shift[c];
        o[c] = Relu ? std::max(v, T(0)) : v;
      }
      continue;
    }
    for (int64_t c = 0; c < nc; ++c) {
      const T* r = x + s.row(n, c0 + c);
      T* o = y + s.row(n, c0 + c);
      const T sc = scale[c], sh = shift[c];
#pragma omp simd
      for (int64_t i = 0; i < s.HW; ++i) {
        const T v = r[i] * sc + sh;
        o[i] = Relu ? std::max(v, T(0)) : v;
      }
    }
  }
}

// Σ dy' and Σ dy' (x − mean) per channel, dy' = dy masked by (y > 0) when Relu.
template <class T, bool Relu>
void block_grad_sums(const Shape& s, const T* dy, const T* x, const T* y, int64_t c0, int64_t nc,
                     const T* mean, double* sdy, double* sdx) {
  std::fill(sdy, sdy + nc, 0.0);
  std::fill(sdx, sdx + nc, 0.0);
  for (int64_t n = 0; n < s.N; ++n) {
    if (s.HW == 1) {
      const int64_t o = s.row(n, c0);
#pragma omp simd
      for (int64_t c = 0; c < nc; ++c) {
        const T g = relu_mask<T, Relu>(dy[o + c], y, o + c);
        sdy[c] += g;
        sdx[c] += g * (x[o + c] - mean[c]);
      }
      continue;
    }
    for (int64_t c = 0; c < nc; ++c) {
      const int64_t o = s.row(n, c0 + c);
      const T mu = mean[c];
      T a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
      for (int64_t i = 0; i < s.HW; ++i) {
        const T g = relu_mask<T, Relu>(dy[o + i], y, o + i);
        a += g;
        b += g * (x[o + i] - mu);
      }
      sdy[c] += a;
      sdx[c] += b;
    }
  }
}

// dx = a·dy' + b·x + k per channel (dx may alias dy: each element is read before it is written).
template <class T, bool Relu>
void block_grad_apply(const Shape& s, const T* dy, const T* x, const T* y, int64_t c0,
                      int64_t nc, const T* a, const T* b, const T* k, T* dx) {
  for (int64_t n = 0; n < s.N; ++n) {
    if (s.HW == 1) {
      const int64_t o = s.row(n, c0);
#pragma omp simd
      for (int64_t c = 0; c < nc; ++c)
        dx[o + c] = a[c] * relu_mask<T, Relu>(dy[o + c], y, o + c) + b[c] * x[o + c] + k[c];
      continue;
    }
    for (int64_t c = 0; c < nc; ++c) {
      const int64_t o = s.row(n, c0 + c);
      const T ac = a[c], bc = b[c], kc = k[c];
#pragma omp simd
      for (int64_t i = 0; i < s.HW; ++i)
        dx[o + i] = ac * relu_mask<T, Relu>(dy[o + i], y, o + i) + bc * x[o + i] + kc;
    }
  }
}

template <class T, bool Relu>
void forward_train(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma, const T* beta,
                   T eps, T momentum, T* y, T* save_mean, T* save_invstd, T* running_mean,
                   T* running_var) {
  const Shape s{N, C, HW};
  const int64_t M = N * HW;
#pragma omp parallel for schedule(static) if (N * C * HW >= kParallelMin)
  for (int64_t c0 = 0; c0 < C; c0 += s.block) {
    const int64_t nc = std::min(s.block, C - c0);
    double mean[kBlock1d], var[kBlock1d];
    T scale[kBlock1d], shift[kBlock1d];
    block_stats(s, x, c0, nc, mean, var);
    for (int64_t c = 0; c < nc; ++c) {
      const int64_t ch = c0 + c;
      const double invstd = 1.0 / std::sqrt(var[c] + double(eps));
      const double g = gamma ? double(gamma[ch]) : 1.0, b = beta ? double(beta[ch]) : 0.0;
      scale[c] = T(g * invstd);  // γ x̂ + β = x·(γ invstd) + (β − mean γ invstd)
      shift[c] = T(b - mean[c] * g * invstd);
      save_mean[ch] = T(mean[c]);
      save_invstd[ch] = T(invstd);
      const double m = momentum;
      if (running_mean) running_mean[ch] = T((1 - m) * running_mean[ch] + m * mean[c]);
      if (running_var) {
        const double unbiased = M > 1 ? var[c] * double(M) / double(M - 1) : var[c];
        running_var[ch] = T((1 - m) * running_var[ch] + m * unbiased);
      }
    }
    block_apply<T, Relu>(s, x, c0, nc, scale, shift, y);
  }
}

// Shared by the training and eval backward: stats(ch) gives {mean, invstd} of channel ch.
// Training: dx = a dy + b x + k with a = γ invstd, b = −γ invstd³ Σdy(x−mean)/M,
//           k = −γ invstd Σdy/M − b·mean  (the formula in the header, expanded in x).
// Eval:     dx = γ invstd dy (b = k = 0).
template <class T, bool Relu, class Stats>
void backward(bool train, int64_t N, int64_t C, int64_t HW, const T* dy, const T* x, const T* y,
              const T* gamma, Stats stats, T* dx, T* dgamma, T* dbeta) {
  const Shape s{N, C, HW};
  const double M = double(N * HW);
  const bool need_sums = train || dgamma || dbeta;
#pragma omp parallel for schedule(static) if (N * C * HW >= kParallelMin)
  for (int64_t c0 = 0; c0 < C; c0 += s.block) {
    const int64_t nc = std::min(s.block, C - c0);
    T mean[kBlock1d], a[kBlock1d], b[kBlock1d], k[kBlock1d];
    double invstd[kBlock1d], sdy[kBlock1d] = {}, sdx[kBlock1d] = {};
    for (int64_t c = 0; c < nc; ++c) {
      const auto [mu, is] = stats(c0 + c);
      mean[c] = T(mu);
      invstd[c] = is;
    }
    if (need_sums) block_grad_sums<T, Relu>(s, dy, x, y, c0, nc, mean, sdy, sdx);
    for (int64_t c = 0; c < nc; ++c) {
      const int64_t ch = c0 + c;
      const double g = gamma ? double(gamma[ch]) : 1.0, is = invstd[c];
      const double bc = train ? -g * is * is * is * sdx[c] / M : 0.0;
      a[c] = T(g * is);
      b[c] = T(bc);
      k[c] = T(train ? -g * is * sdy[c] / M - bc * double(mean[c]) : 0.0);
      if (dgamma) dgamma[ch] = T(is * sdx[c]);  // Σ dy x̂ = invstd Σ dy (x − mean)
      if (dbeta) dbeta[ch] = T(sdy[c]);
    }
    block_grad_apply<T, Relu>(s, dy, x, y, c0, nc, a, b, k, dx);
  }
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
                              T* save_invstd, T* running_mean, T* running_var) {
  forward_train<T, false>(N, C, HW, x, gamma, beta, eps, momentum, y, save_mean, save_invstd,
                          running_mean, running_var);
}

template <class T>
void batch_norm_relu_forward_train(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                                   const T* beta, T eps, T momentum, T* y, T* save_mean,
                                   T* save_invstd, T* running_mean, T* running_var) {
  forward_train<T, true>(N, C, HW, x, gamma, beta, eps, momentum, y, save_mean, save_invstd,
                         running_mean, running_var);
}

template <class T>
void batch_norm_backward_train(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                               const T* gamma, const T* save_mean, const T* save_invstd, T* dx,
                               T* dgamma, T* dbeta) {
  backward<T, false>(true, N, C, HW, dy, x, static_cast<const T*>(nullptr), gamma,
                     saved_stats(save_mean, save_invstd), dx, dgamma, dbeta);
}

template <class T>
void batch_norm_relu_backward_train(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                                    const T* y, const T* gamma, const T* save_mean,
                                    const T* save_invstd, T* dx, T* dgamma, T* dbeta) {
  backward<T, true>(true, N, C, HW, dy, x, y, gamma, saved_stats(save_mean, save_invstd), dx,
                    dgamma, dbeta);
}

template <class T>
void batch_norm_forward_eval(int64_t N, int64_t C, int64_t HW, const T* x, const T* gamma,
                             const T* beta, const T* running_mean, const T* running_var, T eps,
                             T* y) {
  const Shape s{N, C, HW};
#pragma omp parallel for schedule(static) if (N * C * HW >= kParallelMin)
  for (int64_t c0 = 0; c0 < C; c0 += s.block) {
    const int64_t nc = std::min(s.block, C - c0);
    T scale[kBlock1d], shift[kBlock1d];
    for (int64_t c = 0; c < nc; ++c) {
      const int64_t ch = c0 + c;
      const double invstd = 1.0 / std::sqrt(double(running_var[ch]) + double(eps));
      const double g = gamma ? double(gamma[ch]) : 1.0, b = beta ? double(beta[ch]) : 0.0;
      scale[c] = T(g * invstd);
      shift[c] = T(b - double(running_mean[ch]) * g * invstd);
    }
    block_apply<T, false>(s, x, c0, nc, scale, shift, y);
  }
}

template <class T>
void batch_norm_backward_eval(int64_t N, int64_t C, int64_t HW, const T* dy, const T* x,
                              const T* gamma, const T* running_mean, const T* running_var, T eps,
                              T* dx, T* dgamma, T* dbeta) {
  backward<T, false>(false, N, C, HW, dy, x, static_cast<const T*>(nullptr), gamma,
                     running_stats(running_mean, running_var, eps), dx, dgamma, dbeta);
}

#define BT_INSTANTIATE(T)                                                                       \
  template void batch_norm_forward_train_ref<T>(int64_t, int64_t, int64_t, const T*, const T*,  \
                                                const T*, T, T, T*, T*, T*, T*, T*);            \
  template void batch_norm_forward_train<T>(int64_t, int64_t, int64_t, const T*, const T*,      \
                                            const T*, T, T, T*, T*, T*, T*, T*);                \
  template void batch_norm_relu_forward_train<T>(int64_t, int64_t, int64_t, const T*, const T*, \
                                                 const T*, T, T, T*, T*, T*, T*, T*);           \
  template void batch_norm_backward_train_ref<T>(int64_t, int64_t, int64_t, const T*, const T*, \
                                                 const T*, const T*, const T*, T*, T*, T*);     \
  template void batch_norm_backward_train<T>(int64_t, int64_t, int64_t, const T*, const T*,     \
                                             const T*, const T*, const T*, T*, T*, T*);         \
  template void batch_norm_relu_backward_train<T>(int64_t, int64_t, int64_t, const T*,          \
                                                  const T*, const T*, const T*, const T*,       \
                                                  const T*, T*, T*, T*);                        \
  template void batch_norm_forward_eval_ref<T>(int64_t, int64_t, int64_t, const T*, const T*,   \
                                               const T*, const T*, const T*, T, T*);            \
  template void batch_norm_forward_eval<T>(int64_t, int64_t, int64_t, const T*, const T*,       \
                                           const T*, const T*, const T*, T, T*);                \
  template void batch_norm_backward_eval_ref<T>(int64_t, int64_t, int64_t, const T*, const T*,  \
                                                const T*, const T*, const T*, T, T*, T*, T*);   \
  template void batch_norm_backward_eval<T>(int64_t, int64_t, int64_t, const T*, const T*,      \
                                            const T*, const T*, const T*, T, T*, T*, T*);
BT_INSTANTIATE(float)
BT_INSTANTIATE(double)
#undef BT_INSTANTIATE

}  // namespace bt::cpu
