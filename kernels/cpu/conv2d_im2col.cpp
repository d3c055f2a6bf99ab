#include "kernels/cpu/conv2d_im2col.h"

#include <omp.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "kernels/cpu/gemm.h"

namespace bt::cpu {
namespace {

// GEMM width a chunk aims for: B = ⌈kTargetCols / PQ⌉ images per chunk (tuned with kernel_bench).
constexpr int64_t kTargetCols = 256;

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// The outputs o ∈ [lo, hi) whose input o·stride − pad + tap lies inside [0, in).
struct Span {
  int64_t lo, hi;
};
Span valid_outputs(int64_t out, int64_t in, int64_t stride, int64_t pad, int64_t tap) {
  const int64_t lo = std::max<int64_t>(0, ceil_div(pad - tap, stride));
  const int64_t hi = std::min(out, floor_div(in - 1 + pad - tap, stride) + 1);
  return {lo, std::max(lo, hi)};
}

// col (CRS, ld) ← im2col(x (C, H, W)); writes the P·Q columns starting at col.
template <class T>
void im2col(const Conv2dShape& s, const T* x, T* col, int64_t ld) {
  const int64_t P = s.P(), Q = s.Q();
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t r = 0; r < s.R; ++r) {
      const Span ps = valid_outputs(P, s.H, s.stride_h, s.pad_h, r);
      for (int64_t t = 0; t < s.S; ++t) {
        T* row = col + ((c * s.R + r) * s.S + t) * ld;
        const Span qs = valid_outputs(Q, s.W, s.stride_w, s.pad_w, t);
        std::fill(row, row + ps.lo * Q, T(0));
        for (int64_t p = ps.lo; p < ps.hi; ++p) {
          T* out = row + p * Q;
          // x index of output column q: base + q·sw (base may be negative; base + q·sw ≥ 0 in qs)
          const int64_t base = (c * s.H + p * s.stride_h - s.pad_h + r) * s.W - s.pad_w + t;
          std::fill(out, out + qs.lo, T(0));
          if (s.stride_w == 1)
            std::copy(x + base + qs.lo, x + base + qs.hi, out + qs.lo);
          else
            for (int64_t q = qs.lo; q < qs.hi; ++q) out[q] = x[base + q * s.stride_w];
          std::fill(out + qs.hi, out + Q, T(0));
        }
        std::fill(row + ps.hi * Q, row + P * Q, T(0));
      }
    }
}

// dx (C, H, W) = col2im(col (CRS, ld)): the transpose of im2col, a scatter-add of every column
// entry onto the input pixel it was copied from. Overwrites dx.
template <class T>
void col2im(const Conv2dShape& s, const T* col, int64_t ld, T* dx) {
  const int64_t Q = s.Q();
  std::fill(dx, dx + s.C * s.H * s.W, T(0));
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t r = 0; r < s.R; ++r) {
      const Span ps = valid_outputs(s.P(), s.H, s.stride_h, s.pad_h, r);
      for (int64_t t = 0; t < s.S; ++t) {
        const T* row = col + ((c * s.R + r) * s.S + t) * ld;
        const Span qs = valid_outputs(Q, s.W, s.stride_w, s.pad_w, t);
        for (int64_t p = ps.lo; p < ps.hi; ++p) {
          const int64_t base = (c * s.H + p * s.stride_h - s.pad_h + r) * s.W - s.pad_w + t;
          for (int64_t q = qs.lo; q < qs.hi; ++q) dx[base + q * s.stride_w] += row[p * Q + q];
        }
      }
    }
}

// a (nb, K, PQ) images → b (K, nb·PQ), and back: the NCHW batch slice vs the GEMM's layout.
template <class T>
void batch_to_rows(const T* a, int64_t nb, int64_t K, int64_t PQ, T* b) {
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < nb; ++j) std::copy_n(a + (j * K + k) * PQ, PQ, b + (k * nb + j) * PQ);
}
template <class T>
void rows_to_batch(const T* b, int64_t nb, int64_t K, int64_t PQ, T* a) {
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < nb; ++j) std::copy_n(b + (k * nb + j) * PQ, PQ, a + (j * K + k) * PQ);
}

// A 1×1, stride-1, unpadded conv has col(x[n]) = x[n]: no im2col copy for single-image chunks.
bool is_pointwise(const Conv2dShape& s) {
  return s.R == 1 && s.S == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_h == 0 && s.pad_w == 0;
}

// How the batch is cut: nchunks chunks of B images (the last may be short).
struct Plan {
  int64_t B, nchunks;
  int nthreads;   // threads running chunks (1 = chunks in turn, threaded GEMM)
  bool parallel;
};
Plan make_plan(const Conv2dShape& s) {
  const int nt = omp_get_max_threads();
  const int64_t b0 = std::clamp<int64_t>(ceil_div(kTargetCols, s.P() * s.Q()), 1, s.N);
  int64_t nchunks = std::max(ceil_div(s.N, b0), std::min<int64_t>(s.N, nt));
  if (nchunks % nt != 0 && ceil_div(nchunks, nt) * nt <= s.N) nchunks = ceil_div(nchunks, nt) * nt;
  const int64_t B = ceil_div(s.N, nchunks);
  const bool parallel = nt > 1 && ceil_div(s.N, B) >= nt;
  return {B, ceil_div(s.N, B), parallel ? nt : 1, parallel};
}

// Runs f(thread, n0, nb) for every chunk, statically spread over the plan's threads.
template <class F>
void for_each_chunk(const Plan& pl, int64_t N, F&& f) {
#pragma omp parallel num_threads(pl.nthreads) if (pl.parallel)
  {
    const int tid = omp_get_thread_num();
#pragma omp for schedule(static)
    for (int64_t i = 0; i < pl.nchunks; ++i) f(tid, i * pl.B, std::min(pl.B, N - i * pl.B));
  }
}

template <class T>
struct Buffers {
  std::vector<T> col;  // (CRS, B·PQ)
  std::vector<T> tmp;  // (K, B·PQ): GEMM output (forward) or gathered dy
  std::vector<T> dw;   // (K, CRS): this thread's partial dw (thread 0 writes dw directly)
  bool started = false;
};

template <class T>
struct Workspace {
  std::mutex mu;
  std::vector<Buffers<T>> per_thread;

  // Grows (never shrinks) every running thread's buffers to the given sizes.
  Buffers<T>* reserve(int nthreads, int64_t col, int64_t tmp, int64_t dw) {
    if (per_thread.size() < size_t(nthreads)) per_thread.resize(nthreads);
    for (int t = 0; t < nthreads; ++t) {
      Buffers<T>& b = per_thread[t];
      if (b.col.size() < size_t(col)) b.col.resize(col);
      if (b.tmp.size() < size_t(tmp)) b.tmp.resize(tmp);
      if (b.dw.size() < size_t(dw)) b.dw.resize(dw);
      b.started = false;
    }
    return per_thread.data();
  }
};

template <class T>
Workspace<T>& workspace() {
  static Workspace<T> ws;
  return ws;
}

}  // namespace

template <class T>
void conv2d_forward_im2col(const Conv2dShape& s, const T* x, const T* w, T* y) {
  const int64_t CRS = s.C * s.R * s.S, PQ = s.P() * s.Q(), CHW = s.C * s.H * s.W;
  const Plan pl = make_plan(s);
  const bool pointwise = is_pointwise(s);
  Workspace<T>& ws = workspace<T>();
  std::lock_guard lock(ws.mu);
  Buffers<T>* bufs = ws.reserve(pl.nthreads, CRS * pl.B * PQ, pl.B > 1 ? s.K * pl.B * PQ : 0, 0);
  for_each_chunk(pl, s.N, [&](int tid, int64_t n0, int64_t nb) {
    Buffers<T>& b = bufs[tid];
    const int64_t ld = nb * PQ;
    const T* col = x + n0 * CHW;
    if (!(pointwise && nb == 1)) {
      for (int64_t j = 0; j < nb; ++j) im2col(s, x + (n0 + j) * CHW, b.col.data() + j * PQ, ld);
      col = b.col.data();
    }
    T* out = nb == 1 ? y + n0 * s.K * PQ : b.tmp.data();  // (K, nb·PQ)
    gemm(false, false, s.K, ld, CRS, T(1), w, CRS, col, ld, T(0), out, ld);
    if (nb > 1) rows_to_batch(out, nb, s.K, PQ, y + n0 * s.K * PQ);
  });
}

template <class T>
void conv2d_backward_data_im2col(const Conv2dShape& s, const T* dy, const T* w, T* dx) {
  const int64_t CRS = s.C * s.R * s.S, PQ = s.P() * s.Q(), CHW = s.C * s.H * s.W;
  const Plan pl = make_plan(s);
  const bool pointwise = is_pointwise(s);
  Workspace<T>& ws = workspace<T>();
  std::lock_guard lock(ws.mu);
  Buffers<T>* bufs = ws.reserve(pl.nthreads, CRS * pl.B * PQ, pl.B > 1 ? s.K * pl.B * PQ : 0, 0);
  for_each_chunk(pl, s.N, [&](int tid, int64_t n0, int64_t nb) {
    Buffers<T>& b = bufs[tid];
    const int64_t ld = nb * PQ;
    const T* dyc = dy + n0 * s.K * PQ;  // (K, nb·PQ)
    if (nb > 1) {
      batch_to_rows(dyc, nb, s.K, PQ, b.tmp.data());
      dyc = b.tmp.data();
    }
    if (pointwise && nb == 1) {  // col2im is the identity: dx[n] = wᵀ · dy[n]
      gemm(true, false, CRS, ld, s.K, T(1), w, CRS, dyc, ld, T(0), dx + n0 * CHW, ld);
      return;
    }
    gemm(true, false, CRS, ld, s.K, T(1), w, CRS, dyc, ld, T(0), b.col.data(), ld);
    for (int64_t j = 0; j < nb; ++j) col2im(s, b.col.data() + j * PQ, ld, dx + (n0 + j) * CHW);
  });
}

template <class T>
void conv2d_backward_weight_im2col(const Conv2dShape& s, const T* x, const T* dy, T* dw) {
  const int64_t CRS = s.C * s.R * s.S, PQ = s.P() * s.Q(), CHW = s.C * s.H * s.W;
  const Plan pl = make_plan(s);
  const bool pointwise = is_pointwise(s);
  Workspace<T>& ws = workspace<T>();
  std::lock_guard lock(ws.mu);
  Buffers<T>* bufs = ws.reserve(pl.nthreads, CRS * pl.B * PQ, pl.B > 1 ? s.K * pl.B * PQ : 0,
                                pl.nthreads > 1 ? s.K * CRS : 0);
  for_each_chunk(pl, s.N, [&](int tid, int64_t n0, int64_t nb) {
    Buffers<T>& b = bufs[tid];
    const int64_t ld = nb * PQ;
    const T* col = x + n0 * CHW;
    if (!(pointwise && nb == 1)) {
      for (int64_t j = 0; j < nb; ++j) im2col(s, x + (n0 + j) * CHW, b.col.data() + j * PQ, ld);
      col = b.col.data();
    }
    const T* dyc = dy + n0 * s.K * PQ;  // (K, nb·PQ)
    if (nb > 1) {
      batch_to_rows(dyc, nb, s.K, PQ, b.tmp.data());
      dyc = b.tmp.data();
    }
    // This thread's partial sum: dw_t (=, then +=) dyc · colᵀ over its chunks.
    T* acc = tid == 0 ? dw : b.dw.data();
    gemm(false, true, s.K, CRS, ld, T(1), dyc, ld, col, ld, b.started ? T(1) : T(0), acc, CRS);
    b.started = true;
  });
  // dw = dw_0 + dw_1 + …, in thread order, so the result does not depend on timing.
  const int64_t n = s.K * CRS;
#pragma omp parallel for schedule(static) if (pl.parallel)
  for (int64_t i = 0; i < n; ++i) {
    T sum = dw[i];
    for (int t = 1; t < pl.nthreads; ++t)
      if (bufs[t].started) sum += bufs[t].dw[i];
    dw[i] = sum;
  }
}

#define BT_CONV2D_IM2COL(T)                                                                 \
  template void conv2d_forward_im2col<T>(const Conv2dShape&, const T*, const T*, T*);       \
  template void conv2d_backward_data_im2col<T>(const Conv2dShape&, const T*, const T*, T*); \
  template void conv2d_backward_weight_im2col<T>(const Conv2dShape&, const T*, const T*, T*);
BT_CONV2D_IM2COL(float)
BT_CONV2D_IM2COL(double)
#undef BT_CONV2D_IM2COL

}  // namespace bt::cpu
