#pragma once
// Sum reductions of a row-major (rows, cols) float32 matrix (reduce.cu). Outputs are
// overwritten (=); alpha scales the sums (1/cols or 1/rows gives the mean).
#include <cstdint>

#include "kernels/cuda/backend.h"

namespace bt::cuda {

// out (rows) = alpha * sum over the columns of each row of x (rows, cols).
template <class B>
void sum_dim1(int64_t rows, int64_t cols, const float* x, float alpha, float* out, void* stream);
// out (cols) = alpha * sum over the rows of each column of x (rows, cols).
template <class B>
void sum_dim0(int64_t rows, int64_t cols, const float* x, float alpha, float* out, void* stream);

}  // namespace bt::cuda
