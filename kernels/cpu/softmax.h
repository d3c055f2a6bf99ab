#pragma once
// log-softmax and cross-entropy over the last dimension of a contiguous (rows, cols) buffer.
// `*_ref` are plain loops in double; the versions without the suffix are the fast path
// (OpenMP over rows, SIMD max/sum reductions).
#include <cstdint>

namespace bt::cpu {

// y = x − logΣ exp(x), computed as x − m − log Σ exp(x − m) with m the row max
// (log-sum-exp: no overflow for large logits).
//   x (rows, cols) -> y (rows, cols) (=)
template <class T>
void log_softmax_forward_ref(int64_t rows, int64_t cols, const T* x, T* y);
template <class T>
void log_softmax_forward(int64_t rows, int64_t cols, const T* x, T* y);

// Backward from the forward's output y: ∂y_j/∂x_k = δ_jk − softmax_k, so
//   dx = dy − softmax · Σ dy,  softmax = exp(y).
//   y, dy (rows, cols) -> dx (rows, cols) (=); the fast version allows dx == dy.
template <class T>
void log_softmax_backward_ref(int64_t rows, int64_t cols, const T* y, const T* dy, T* dx);
template <class T>
void log_softmax_backward(int64_t rows, int64_t cols, const T* y, const T* dy, T* dx);

// Cross-entropy with integer class labels, averaged over rows:
//   loss = (1/rows) Σ_r −log_softmax(x_r)[label_r]
//   logits (rows, cols); labels (rows), each in [0, cols). Returns the loss.
template <class T>
T cross_entropy_forward_ref(int64_t rows, int64_t cols, const T* logits, const int32_t* labels);
template <class T>
T cross_entropy_forward(int64_t rows, int64_t cols, const T* logits, const int32_t* labels);

// Its backward, recomputing the softmax from the logits, for an upstream gradient g:
//   dlogits = g/rows · (softmax(x_r) − onehot(label_r))
//   logits (rows, cols); labels (rows) -> dlogits (rows, cols) (=)
template <class T>
void cross_entropy_backward_ref(int64_t rows, int64_t cols, const T* logits,
                                const int32_t* labels, T g, T* dlogits);
template <class T>
void cross_entropy_backward(int64_t rows, int64_t cols, const T* logits, const int32_t* labels,
                            T g, T* dlogits);

}  // namespace bt::cpu
