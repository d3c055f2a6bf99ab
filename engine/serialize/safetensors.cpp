#include "engine/serialize/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/autograd.h"
#include "engine/serialize/safetensors_layout.h"

namespace bt {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this build assumes a little-endian host");

namespace {

using nlohmann::json;

using safetensors::fail_load;
using safetensors::kMetadataKey;

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
  // Flush, fsync, close, rename over the target, then fsync the directory so that the rename
  // itself survives a power loss (rename(2) is atomic, not durable).
  void commit() {
    if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) fail("flush failed");
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) fail("close failed");
    if (std::rename(path_.c_str(), target_.c_str()) != 0) fail("rename failed");
    committed_ = true;
    const std::string dir = std::filesystem::path(target_).parent_path().string();
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced) fail("fsync of its directory failed");
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

}  // namespace

SafetensorsContents load_safetensors(const std::string& path) {
  InputFile file(path);
  const uint64_t size = file.size();
  uint64_t header_len = 0;
  if (size >= 8) file.read_at(0, &header_len, 8);
  safetensors::check_header_length(path, size, header_len);
  std::string text(header_len, '\0');
  file.read_at(8, text.data(), header_len);
  safetensors::Layout layout = safetensors::parse_header(path, text, size);

  SafetensorsContents out;
  out.metadata = std::move(layout.metadata);
  for (const safetensors::Entry& e : layout.entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    if (e.is_i64) {
      std::vector<int64_t> raw(t.numel());
      file.read_at(layout.data_start + e.begin, raw.data(), e.end - e.begin);
      double* dst = t.data<double>();
      for (size_t i = 0; i < raw.size(); ++i) dst[i] = double(raw[i]);
    } else {
      file.read_at(layout.data_start + e.begin, t.raw_data(), e.end - e.begin);
    }
    out.tensors.emplace(e.name, t);
  }
  return out;
}

}  // namespace bt
