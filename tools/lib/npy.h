#pragma once
// NumPy .npy files, format version 1.0 (numpy.lib.format), which numpy.load reads:
//   "\x93NUMPY"  1  0  HEADER_LEN (uint16, little-endian)
//   HEADER: "{'descr': '<f4', 'fortran_order': False, 'shape': (N, F), }" then spaces and a
//           final '\n', so that 10 + HEADER_LEN is a multiple of 64 (numpy's _wrap_header:
//           64 − (10 + len + 1) mod 64 spaces, i.e. 1..64)
//   DATA:   the elements, row-major (C order), little-endian.
// Every file is written atomically (write_file_atomic).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace bt::tools {

// A float32 tensor as '<f4' or a float64 one as '<f8', with its shape (any rank, any strides,
// any device).
void save_npy(const std::string& path, const Tensor& t);
// A 1-D '<i8' array (labels).
void save_npy(const std::string& path, const std::vector<int64_t>& values);

// The header block (magic through the final '\n') of an array with this descr and shape.
std::string npy_header(const std::string& descr, const Shape& shape);

// Writes `bytes` to a temporary file beside `path`, flushes it, then renames it over `path`,
// so readers never see a partial file. On failure the temporary file is removed and bt::Error
// names `path` and the cause. Shared by the .npy and PNG writers.
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace bt::tools
