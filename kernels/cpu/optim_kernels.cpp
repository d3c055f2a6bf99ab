// Optimizer updates: plain fused loops, parallel over elements when the tensor is large.
#include "kernels/cpu/optim_kernels.h"

namespace bt::cpu {

namespace {
// Below this many elements a parallel region costs more than the loop.
constexpr int64_t kParallelMin = 1 << 15;
}  // namespace

template <class T>
void sgd_step(int64_t n, T* p, const T* g, T* buf, T lr, T momentum, T wd, bool nesterov,
              bool first) {
  if (momentum == T(0)) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) p[i] -= lr * (g[i] + wd * p[i]);
    return;
  }
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const T d = g[i] + wd * p[i];
    const T b = first ? d : momentum * buf[i] + d;
    buf[i] = b;
    p[i] -= lr * (nesterov ? d + momentum * b : b);
  }
}

template <class T>
void lars_norms(int64_t n, const T* p, const T* g, T wd, double* p_norm2, double* d_norm2) {
  double sp = 0, sd = 0;
#pragma omp parallel for schedule(static) reduction(+ : sp, sd) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const double pi = double(p[i]);
    const double di = double(g[i] + wd * p[i]);
    sp += pi * pi;
    sd += di * di;
  }
  *p_norm2 = sp;
  *d_norm2 = sd;
}

template <class T>
void lars_update(int64_t n, T* p, const T* g, T* buf, T lr, T momentum, T wd, T q) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const T b = momentum * buf[i] + q * (g[i] + wd * p[i]);
    buf[i] = b;
    p[i] -= lr * b;
  }
}

template <class T>
void adamw_step(int64_t n, T* p, const T* g, T* m, T* v, T lr, T beta1, T beta2, T eps, T wd,
                int64_t step) {
  const T decay = T(1) - lr * wd;
  const T step_size = T(double(lr) / (1.0 - std::pow(double(beta1), double(step))));
  const T bc2_sqrt = T(std::sqrt(1.0 - std::pow(double(beta2), double(step))));
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T mi = beta1 * m[i] + (T(1) - beta1) * gi;
    const T vi = beta2 * v[i] + (T(1) - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - step_size * mi / (std::sqrt(vi) / bc2_sqrt + eps);
  }
}

template <class T>
void ema_update(int64_t n, T* target, const T* online, T tau) {
  const T one_minus = T(1) - tau;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) target[i] = tau * target[i] + one_minus * online[i];
}

#define BT_INSTANTIATE(T)                                                                   \
  template void sgd_step<T>(int64_t, T*, const T*, T*, T, T, T, bool, bool);                \
  template void lars_norms<T>(int64_t, const T*, const T*, T, double*, double*);            \
  template void lars_update<T>(int64_t, T*, const T*, T*, T, T, T, T);                      \
  template void adamw_step<T>(int64_t, T*, const T*, T*, T*, T, T, T, T, T, int64_t);       \
  template void ema_update<T>(int64_t, T*, const T*, T);
BT_INSTANTIATE(float)
BT_INSTANTIATE(double)
#undef BT_INSTANTIATE

}  // namespace bt::cpu
