#pragma once
// log-softmax and cross-entropy over the rows of a contiguous (rows, cols) float32 buffer
// (softmax.cu), the contracts of kernels/cpu/softmax.h. One warp per row. See backend.h for B
// and stream.
#include <cstdint>

#include "kernels/cuda/backend.h"

namespace bt::cuda {

// y = x − m − log Σ exp(x − m), m the row max.
template <class B>
void log_softmax_forward(int64_t rows, int64_t cols, const float* x, float* y, void* stream);
// dx = dy − exp(y) · Σ dy (y the forward's output); dx may alias dy.
template <class B>
void log_softmax_backward(int64_t rows, int64_t cols, const float* y, const float* dy, float* dx, void* stream);
// row_loss (rows) (=) −log_softmax(x_r)[label_r]; labels (rows) int32 in [0, cols) on the device.
// The loss is their mean (the engine sums them with the reduce kernels).
template <class B>
void cross_entropy_rows(int64_t rows, int64_t cols, const float* logits, const int32_t* labels, float* row_loss,
                        void* stream);
// dlogits = g[0]/rows · (softmax(x_r) − onehot(label_r)); g is the upstream gradient, a device scalar.
template <class B>
void cross_entropy_backward(int64_t rows, int64_t cols, const float* logits, const int32_t* labels, const float* g,
                            float* dlogits, void* stream);

}  // namespace bt::cuda
