#pragma once
// The rules of a safetensors header (engine/serialize/safetensors.h describes the format),
// checked before any tensor data is read, without the tensor engine: the 8-byte length field,
// the JSON, each entry's dtype, shape and offsets, and the layout of the data section. Pure
// functions of their arguments (the fuzz harness fuzz/fuzz_safetensors.cpp runs them alone).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/dtype.h"

namespace bt::safetensors {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the format's MAX_HEADER_SIZE
inline const char* const kMetadataKey = "__metadata__";

struct Entry {
  std::string name;
  DType dtype = DType::f32;  // of the tensor we make (I64 → f64)
  size_t file_elem = 4;      // element size in the file
  bool is_i64 = false;
  Shape shape;
  uint64_t begin = 0, end = 0;  // relative to the data section
};

struct Layout {
  uint64_t data_start = 0;     // 8 + the header length
  std::vector<Entry> entries;  // sorted by offset, tiling the data section exactly
  std::map<std::string, std::string> metadata;
};

// Throws bt::Error "load_safetensors: 'path': what".
[[noreturn]] void fail_load(const std::string& path, const std::string& what);

// Checks the length field of a file of file_size bytes: the file holds the field, and the
// header fits both the format's limit and the file.
void check_header_length(const std::string& path, uint64_t file_size, uint64_t header_len);

// Parses the header text (the header_len bytes after the length field) of a file of file_size
// bytes and checks every rule; the layout tells where each tensor's bytes are.
Layout parse_header(const std::string& path, const std::string& text, uint64_t file_size);

}  // namespace bt::safetensors
