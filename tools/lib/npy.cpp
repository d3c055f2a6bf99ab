#include "tools/lib/npy.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace bt::tools {

namespace {

constexpr size_t kPreamble = 10;  // magic (6) + version (2) + header length (2)
constexpr size_t kAlign = 64;

// Python's repr of a shape tuple: "()", "(5,)", "(3, 2)".
std::string shape_repr(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace

std::string npy_header(const std::string& descr, const Shape& shape) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " +
                     shape_repr(shape) + ", }";
  const size_t pad = kAlign - (kPreamble + dict.size() + 1) % kAlign;
  dict += std::string(pad, ' ') + "\n";
  BT_CHECK(dict.size() <= 0xFFFF, "npy: header of ", dict.size(), " bytes does not fit format 1.0");
  std::string out = "\x93NUMPY";
  out += char(1);
  out += char(0);
  out += char(dict.size() & 0xFF);
  out += char(dict.size() >> 8);
  return out + dict;
}

void save_npy(const std::string& path, const Tensor& t) {
  BT_CHECK(t.defined(), "npy: cannot write an undefined tensor to ", path);
  const Tensor c = t.to(Device::cpu).contiguous();
  std::string bytes = npy_header(c.dtype() == DType::f32 ? "<f4" : "<f8", c.shape());
  bytes.append(static_cast<const char*>(c.raw_data()), size_t(c.numel()) * dtype_size(c.dtype()));
  write_file_atomic(path, bytes);
}

void save_npy(const std::string& path, const std::vector<int64_t>& values) {
  std::string bytes = npy_header("<i8", {int64_t(values.size())});
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t));
  write_file_atomic(path, bytes);
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  BT_CHECK(fd >= 0, "cannot write ", path, ": ", std::strerror(errno));
  size_t done = 0;
  int err = 0;
  while (done < bytes.size() && err == 0) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno != EINTR) err = errno;
    if (w > 0) done += size_t(w);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    detail::fail("cannot write ", path, ": ", std::strerror(err));
  }
}

}  // namespace bt::tools
