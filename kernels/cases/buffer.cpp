#include "kernels/cases/buffer.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace bt::cases {
namespace {

constexpr unsigned char kSentinel = 0xA5;  // as a float 0xA5A5A5A5 ≈ −2.9e-16: plausible, never written by chance

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

const char* to_string(DType dt) {
  switch (dt) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i32: return "i32";
  }
  return "?";
}

void Buffer::Free::operator()(unsigned char* p) const { std::free(p); }

Buffer::Buffer(std::string name, DType dtype, std::vector<int64_t> shape)
    : name_(std::move(name)), dtype_(dtype), shape_(std::move(shape)), numel_(1) {
  for (int64_t d : shape_) numel_ *= d;
  const size_t total = (2 * kGuardBytes + bytes() + 63) / 64 * 64;
  storage_.reset(static_cast<unsigned char*>(std::aligned_alloc(64, total)));
  if (!storage_) throw std::bad_alloc();
  std::memset(storage_.get(), kSentinel, total);
}

template <>
float* Buffer::data<float>() {
  if (dtype_ != DType::f32) throw std::logic_error("Buffer " + name_ + " is not f32");
  return reinterpret_cast<float*>(payload());
}
template <>
double* Buffer::data<double>() {
  if (dtype_ != DType::f64) throw std::logic_error("Buffer " + name_ + " is not f64");
  return reinterpret_cast<double*>(payload());
}

template <>
int32_t* Buffer::data<int32_t>() {
  if (dtype_ != DType::i32) throw std::logic_error("Buffer " + name_ + " is not i32");
  return reinterpret_cast<int32_t*>(payload());
}

double Buffer::get(int64_t i) const {
  switch (dtype_) {
    case DType::f32: return double(reinterpret_cast<const float*>(payload())[i]);
    case DType::f64: return reinterpret_cast<const double*>(payload())[i];
    case DType::i32: return double(reinterpret_cast<const int32_t*>(payload())[i]);
  }
  return 0;
}

void Buffer::set(int64_t i, double v) {
  switch (dtype_) {
    case DType::f32: reinterpret_cast<float*>(payload())[i] = float(v); break;
    case DType::f64: reinterpret_cast<double*>(payload())[i] = v; break;
    case DType::i32: reinterpret_cast<int32_t*>(payload())[i] = int32_t(v); break;
  }
}

std::vector<double> Buffer::values() const {
  std::vector<double> v(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) v[size_t(i)] = get(i);
  return v;
}

void Buffer::set_values(const std::vector<double>& v) {
  if (int64_t(v.size()) != numel_) throw std::logic_error("Buffer " + name_ + ": set_values of the wrong size");
  for (int64_t i = 0; i < numel_; ++i) set(i, v[size_t(i)]);
}

void Buffer::fill(double v) {
  for (int64_t i = 0; i < numel_; ++i) set(i, v);
}

void Buffer::fill_uniform(uint64_t seed, double lo, double hi) {
  uint64_t state = seed;
  for (int64_t i = 0; i < numel_; ++i) set(i, lo + (hi - lo) * double(splitmix64(state) >> 11) * 0x1.0p-53);
}

bool Buffer::guards_intact() const {
  const unsigned char* end = storage_.get() + (2 * kGuardBytes + bytes() + 63) / 64 * 64;
  for (const unsigned char* p = storage_.get(); p < payload(); ++p)
    if (*p != kSentinel) return false;
  for (const unsigned char* p = payload() + bytes(); p < end; ++p)
    if (*p != kSentinel) return false;
  return true;
}

std::string Buffer::index_str(int64_t i) const {
  std::vector<int64_t> idx(shape_.size());
  for (size_t d = shape_.size(); d-- > 0;) {
    idx[d] = i % shape_[d];
    i /= shape_[d];
  }
  std::string s = name_ + "[";
  for (size_t d = 0; d < idx.size(); ++d) s += (d ? "," : "") + std::to_string(idx[d]);
  return s + "]";
}

}  // namespace bt::cases
