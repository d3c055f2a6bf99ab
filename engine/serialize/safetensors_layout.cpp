#include "engine/serialize/safetensors_layout.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <tuple>

#include "engine/error.h"

namespace bt::safetensors {

namespace {

using nlohmann::json;

bool is_count(const json& j) {
  return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
}

// Parses and checks one tensor entry of the header against the data section's size.
Entry parse_entry(const std::string& path, const std::string& name, const json& j,
                  uint64_t data_size) {
  const std::string where = "tensor '" + name + "': ";
  if (!j.is_object() || !j.contains("dtype") || !j["dtype"].is_string() ||
      !j.contains("shape") || !j["shape"].is_array() || !j.contains("data_offsets") ||
      !j["data_offsets"].is_array() || j["data_offsets"].size() != 2 ||
      !is_count(j["data_offsets"][0]) || !is_count(j["data_offsets"][1]))
    fail_load(path, where + "malformed entry (needs dtype, shape and data_offsets [begin, end])");
  const std::string tag = j["dtype"].get<std::string>();
  if (tag != "F32" && tag != "F64" && tag != "I64")
    fail_load(path, where + "unsupported dtype '" + tag + "' (supported: F32, F64, I64)");
  Entry e;
  e.name = name;
  e.dtype = tag == "F32" ? DType::f32 : DType::f64;
  e.file_elem = tag == "F32" ? 4 : 8;
  e.is_i64 = tag == "I64";

  // Element count and byte size, each product checked for overflow (a zero dimension does not
  // excuse a huge one: every dimension must fit an int64 Shape entry).
  uint64_t need = e.file_elem;
  int64_t numel = 1;
  for (const json& d : j["shape"]) {
    if (!is_count(d)) fail_load(path, where + "shape entries must be non-negative integers");
    const uint64_t dim = d.get<uint64_t>();
    if (dim > uint64_t(std::numeric_limits<int64_t>::max()) || __builtin_mul_overflow(numel, int64_t(dim), &numel) ||
        __builtin_mul_overflow(need, dim, &need))
      fail_load(path, where + "shape " + j["shape"].dump() + " of " + tag + ": element count or byte size overflows 64 bits");
    e.shape.push_back(int64_t(dim));
  }
  e.begin = j["data_offsets"][0].get<uint64_t>();
  e.end = j["data_offsets"][1].get<uint64_t>();
  const std::string range =
      "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
  if (e.begin > e.end || e.end > data_size)
    fail_load(path, where + range + " out of range of the " + std::to_string(data_size) +
                        "-byte data section (truncated file?)");
  if (e.end - e.begin != need)
    fail_load(path, where + range + " hold " + std::to_string(e.end - e.begin) +
                        " bytes but shape " + j["shape"].dump() + " of " + tag + " needs " +
                        std::to_string(need));
  return e;
}

// The format's layout rule: the tensors' byte ranges, sorted by offset, tile the data section
// exactly, from 0 to its end (no gap, no overlap, no trailing bytes: the file length is exact).
void check_layout(const std::string& path, std::vector<Entry>& entries, uint64_t data_size) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  uint64_t at = 0;
  for (const Entry& e : entries) {
    if (e.begin != at)
      fail_load(path, "tensor '" + e.name + "' begins at data offset " + std::to_string(e.begin) + " but " +
                          (e.begin > at ? "the bytes before it, from " : "it overlaps the previous tensor, which ends at ") +
                          std::to_string(at) + (e.begin > at ? ", belong to no tensor" : "") +
                          " (data_offsets must be contiguous)");
    at = e.end;
  }
  if (at != data_size)
    fail_load(path, "the tensors end at data offset " + std::to_string(at) + " but the data section holds " +
                        std::to_string(data_size) + " bytes (the file length must be exact)");
}


}  // namespace

void fail_load(const std::string& path, const std::string& what) {
  throw Error("load_safetensors: '" + path + "': " + what);
}

void check_header_length(const std::string& path, uint64_t file_size, uint64_t header_len) {
  if (file_size < 8)
    fail_load(path, "file is " + std::to_string(file_size) + " bytes, shorter than the 8-byte header length");
  if (header_len > kMaxHeaderBytes)
    fail_load(path, "header length " + std::to_string(header_len) + " exceeds the format's limit of " +
                        std::to_string(kMaxHeaderBytes) + " bytes");
  if (header_len > file_size - 8)
    fail_load(path, "header length " + std::to_string(header_len) + " exceeds the " +
                        std::to_string(file_size - 8) + " bytes after the length field");
}

Layout parse_header(const std::string& path, const std::string& text, uint64_t file_size) {
  check_header_length(path, file_size, text.size());
  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1E999999 (a fuzz finding)
    fail_load(path, std::string("invalid JSON header: ") + e.what());
  }
  if (!header.is_object() || text[0] != '{') fail_load(path, "the JSON header is not an object starting at '{'");

  Layout out;
  out.data_start = 8 + text.size();
  const uint64_t data_size = file_size - out.data_start;
  for (const auto& [name, j] : header.items()) {
    if (name == kMetadataKey) {
      if (!j.is_object()) fail_load(path, "__metadata__ is not an object");
      for (const auto& [key, value] : j.items()) {
        if (!value.is_string()) fail_load(path, "__metadata__ value of '" + key + "' is not a string");
        out.metadata.emplace(key, value.get<std::string>());
      }
      continue;
    }
    out.entries.push_back(parse_entry(path, name, j, data_size));
  }
  check_layout(path, out.entries, data_size);
  return out;
}

}  // namespace bt::safetensors
