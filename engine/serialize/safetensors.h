#pragma once
// safetensors files (https://github.com/huggingface/safetensors), the weights format that
// `safetensors.torch.load_file` reads into a PyTorch state_dict:
//
//   [8 bytes]  N, the header length, unsigned little-endian
//   [N bytes]  JSON: {"<name>": {"dtype": "F32"|"F64"|"I64", "shape": [d0, …],
//                                "data_offsets": [begin, end]}, …,
//                     "__metadata__": {"<key>": "<value>", …}}   (optional)
//              padded with spaces to a multiple of 8 (so the data is 8-byte aligned)
//   [rest]     the data section: each tensor's raw little-endian row-major bytes at
//              [begin, end) relative to the start of this section
//
// We write F32 and F64 (the engine's dtypes), names in sorted order, tensors packed back to
// back. We read F32, F64 and I64; I64 (PyTorch's num_batches_tracked) becomes float64,
// exact for |values| ≤ 2^53.
#include <map>
#include <string>

#include "engine/tensor.h"

namespace bt {

using TensorMap = std::map<std::string, Tensor>;
using StringMap = std::map<std::string, std::string>;

struct SafetensorsContents {
  TensorMap tensors;   // CPU tensors
  StringMap metadata;  // empty when the file has no "__metadata__"
};

// Writes atomically: to a temporary file in the same directory, flushed and fsync'ed, then
// renamed over `path`. On failure the temporary file is removed and bt::Error names `path`
// and the cause. Tensors may live on any device and have any strides.
void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const StringMap& metadata = {});

// Reads a whole file, enforcing the format's rules. Errors name the file and the rule broken:
// cannot open, shorter than 8 bytes, header length over 100 MB (the format's limit) or beyond
// the file, invalid JSON or not an object, a malformed entry, an unsupported dtype, a shape whose
// element count or byte size overflows 64 bits, data offsets out of range (a truncated file)
// or not matching shape × dtype size, ranges that are not contiguous from offset 0 (a gap or
// an overlap), or bytes after the last tensor (the file length must be exact).
SafetensorsContents load_safetensors(const std::string& path);

}  // namespace bt
