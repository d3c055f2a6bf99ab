#pragma once
// Element types and devices a tensor can live on.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bt {

// fp32 is the working dtype; f64 runs the CPU reference kernels and gradient checks.
enum class DType : uint8_t { f32, f64 };

inline size_t dtype_size(DType t) { return t == DType::f32 ? 4 : 8; }
inline const char* dtype_name(DType t) { return t == DType::f32 ? "float32" : "float64"; }

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }

// cpu: host kernels. cuda: a real GPU. simt: the CUDA kernels run on the CPU by the emulator.
enum class Device : uint8_t { cpu, cuda, simt };

inline const char* device_name(Device d) {
  switch (d) {
    case Device::cpu: return "cpu";
    case Device::cuda: return "cuda";
    case Device::simt: return "simt";
  }
  return "?";
}

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);

}  // namespace bt
