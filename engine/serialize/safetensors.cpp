#include "engine/serialize/safetensors.h"

#include <unistd.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/autograd.h"

namespace bt {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this build assumes a little-endian host");

namespace {

using nlohmann::json;

const char* kMetadataKey = "__metadata__";

[[noreturn]] void fail_load(const std::string& path, const std::string& what) {
  throw Error("load_safetensors: '" + path + "': " + what);
}

// ---------------------------------------------------------------- writing

// Owns the temporary file until commit(); removes it on any failure.
class TempFile {
 public:
  explicit TempFile(const std::string& target) : target_(target) {
    static std::atomic<uint64_t> counter{0};
    path_ = target + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    file_ = std::fopen(path_.c_str(), "wb");
    if (file_ == nullptr) fail("cannot create temporary file '" + path_ + "'");
  }
  ~TempFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) std::remove(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(const void* data, size_t bytes) {
    if (bytes != 0 && std::fwrite(data, 1, bytes, file_) != bytes) fail("write failed");
  }
  // Flush, fsync, close, rename over the target.
  void commit() {
    if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) fail("flush failed");
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) fail("close failed");
    if (std::rename(path_.c_str(), target_.c_str()) != 0) fail("rename failed");
    committed_ = true;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error("save_safetensors: cannot write '" + target_ + "': " + what + ": " +
                std::strerror(errno));
  }

 private:
  std::string target_, path_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

const char* dtype_tag(DType t) { return t == DType::f32 ? "F32" : "F64"; }

}  // namespace

void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const StringMap& metadata) {
  NoGradGuard no_grad;
  std::vector<Tensor> host;  // contiguous CPU copies (or the tensors themselves), in key order
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    BT_CHECK(name != kMetadataKey, "save_safetensors: '", path, "': a tensor may not be named ",
             kMetadataKey);
    BT_CHECK(t.defined(), "save_safetensors: '", path, "': tensor '", name, "' is undefined");
    Tensor h = t.detach();
    if (h.device() != Device::cpu) h = h.to(Device::cpu);  // device memory: an explicit copy
    host.push_back(h.contiguous());
    const uint64_t bytes = uint64_t(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", dtype_tag(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) header[kMetadataKey] = metadata;

  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {  // e.g. a name that is not valid UTF-8
    throw Error("save_safetensors: cannot write '" + path + "': " + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t header_len = text.size();

  TempFile file(path);
  file.write(&header_len, 8);
  file.write(text.data(), text.size());
  for (const Tensor& h : host) file.write(h.raw_data(), h.numel() * dtype_size(h.dtype()));
  file.commit();
}

// ---------------------------------------------------------------- reading

namespace {

// An open file that closes itself; reads fail with the file's name.
class InputFile {
 public:
  explicit InputFile(const std::string& path)
      : path_(path), file_(std::fopen(path.c_str(), "rb")) {
    if (file_ == nullptr) fail_load(path, std::string("cannot open: ") + std::strerror(errno));
    if (std::fseek(file_, 0, SEEK_END) != 0 || (size_ = std::ftell(file_)) < 0 ||
        std::fseek(file_, 0, SEEK_SET) != 0)
      fail_load(path, std::string("cannot determine the file size: ") + std::strerror(errno));
  }
  ~InputFile() { std::fclose(file_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  uint64_t size() const { return uint64_t(size_); }
  void read_at(uint64_t offset, void* dst, size_t bytes) {
    if (bytes == 0) return;
    if (std::fseek(file_, long(offset), SEEK_SET) != 0 ||
        std::fread(dst, 1, bytes, file_) != bytes)
      fail_load(path_, "read of " + std::to_string(bytes) + " bytes at offset " +
                           std::to_string(offset) + " failed");
  }

 private:
  std::string path_;
  std::FILE* file_;
  long size_ = 0;
};

bool is_count(const json& j) {
  return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
}

struct Entry {
  std::string name;
  DType dtype = DType::f32;  // of the tensor we make (I64 → f64)
  size_t file_elem = 4;      // element size in the file
  bool is_i64 = false;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

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

  uint64_t need = e.file_elem;
  for (const json& d : j["shape"]) {
    if (!is_count(d)) fail_load(path, where + "shape entries must be non-negative integers");
    const uint64_t dim = d.get<uint64_t>();
    if (dim != 0 && need > std::numeric_limits<uint64_t>::max() / dim)
      fail_load(path, where + "shape is too large");
    need *= dim;
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
                        " bytes but shape " + shape_str(e.shape) + " of " + tag + " needs " +
                        std::to_string(need));
  return e;
}

}  // namespace

SafetensorsContents load_safetensors(const std::string& path) {
  InputFile file(path);
  const uint64_t size = file.size();
  if (size < 8)
    fail_load(path, "file is " + std::to_string(size) +
                        " bytes, shorter than the 8-byte header length");
  uint64_t header_len = 0;
  file.read_at(0, &header_len, 8);
  if (header_len > size - 8)
    fail_load(path, "header length " + std::to_string(header_len) + " exceeds the " +
                        std::to_string(size - 8) + " bytes after the length field");
  std::string text(header_len, '\0');
  file.read_at(8, text.data(), header_len);

  json header;
  try {
    header = json::parse(text);
  } catch (const json::parse_error& e) {
    fail_load(path, std::string("invalid JSON header: ") + e.what());
  }
  if (!header.is_object()) fail_load(path, "the JSON header is not an object");

  const uint64_t data_start = 8 + header_len, data_size = size - data_start;
  SafetensorsContents out;
  for (const auto& [name, j] : header.items()) {
    if (name == kMetadataKey) {
      if (!j.is_object()) fail_load(path, "__metadata__ is not an object");
      for (const auto& [key, value] : j.items()) {
        if (!value.is_string())
          fail_load(path, "__metadata__ value of '" + key + "' is not a string");
        out.metadata.emplace(key, value.get<std::string>());
      }
      continue;
    }
    const Entry e = parse_entry(path, name, j, data_size);
    Tensor t = Tensor::empty(e.shape, e.dtype);
    if (e.is_i64) {
      std::vector<int64_t> raw(t.numel());
      file.read_at(data_start + e.begin, raw.data(), e.end - e.begin);
      double* dst = t.data<double>();
      for (size_t i = 0; i < raw.size(); ++i) dst[i] = double(raw[i]);
    } else {
      file.read_at(data_start + e.begin, t.raw_data(), e.end - e.begin);
    }
    out.tensors.emplace(name, t);
  }
  return out;
}

}  // namespace bt
