#pragma once
// A host buffer for kernel cases: `numel` elements of one dtype between two guard zones of
// sentinel bytes, so a kernel that writes before the start or past the end of an output is
// caught (guards_intact()). Values are read and written as double, whatever the dtype (i32
// holds indices and labels: integers, exact in a double).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bt::cases {

enum class DType { f32, f64, i32 };
const char* to_string(DType dt);  // "f32", "f64", "i32"

class Buffer {
 public:
  Buffer(std::string name, DType dtype, std::vector<int64_t> shape);

  const std::string& name() const { return name_; }
  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t numel() const { return numel_; }
  size_t bytes() const { return size_t(numel_) * elem_size(); }

  // Typed access; throws std::logic_error when T does not match the dtype.
  template <class T>
  T* data();
  template <class T>
  const T* data() const {
    return const_cast<Buffer*>(this)->data<T>();
  }
  // The bytes() bytes of the values, whatever the dtype (for copies to and from a device).
  void* raw() { return payload(); }
  const void* raw() const { return payload(); }

  double get(int64_t i) const;
  void set(int64_t i, double v);  // i32: v must be an integer in range (not NaN)
  void fill(double v);
  // Every value as a double (a double-precision reference's input), and back (its output).
  std::vector<double> values() const;
  void set_values(const std::vector<double>& v);
  // Uniform in [lo, hi), deterministic in seed (splitmix64), independent of the dtype.
  void fill_uniform(uint64_t seed, double lo, double hi);

  bool guards_intact() const;
  std::string index_str(int64_t i) const;  // flat index → "name[n,c,h,w]"

 private:
  static constexpr size_t kGuardBytes = 256;
  size_t elem_size() const { return dtype_ == DType::f64 ? sizeof(double) : 4; }
  unsigned char* payload() const { return storage_.get() + kGuardBytes; }

  struct Free {
    void operator()(unsigned char* p) const;
  };
  std::string name_;
  DType dtype_;
  std::vector<int64_t> shape_;
  int64_t numel_;
  std::unique_ptr<unsigned char, Free> storage_;  // guard | payload (64-byte aligned) | guard
};

template <>
float* Buffer::data<float>();
template <>
double* Buffer::data<double>();
template <>
int32_t* Buffer::data<int32_t>();

}  // namespace bt::cases
