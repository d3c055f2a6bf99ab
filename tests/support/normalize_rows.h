#pragma once
// Test inputs for NT-Xent, whose callers pass L2-normalized embeddings.
#include <cmath>
#include <cstdint>
#include <vector>

namespace bt::testing {

// Rows of z (rows, D) scaled to unit L2 norm (the norm taken in double).
inline void normalize_rows(std::vector<float>& z, int64_t rows, int64_t D) {
  for (int64_t i = 0; i < rows; ++i) {
    float* row = z.data() + i * D;
    double q = 0;
    for (int64_t d = 0; d < D; ++d) q += double(row[d]) * row[d];
    for (int64_t d = 0; d < D; ++d) row[d] = float(row[d] / std::sqrt(q));
  }
}

}  // namespace bt::testing
