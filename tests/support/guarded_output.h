#pragma once
// An output buffer for kernel tests: n values (each `fill`, or copied from `init`) followed by
// a guard zone of sentinels that a kernel writing past its end would overwrite.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace bt::testing {

inline constexpr size_t kGuard = 64;
inline constexpr float kSentinel = -12345.5f;

template <class T = float>
struct GuardedOutput {
  std::vector<T> v;
  size_t n;
  // The default fill is NaN for floating types: a kernel that overwrites must write every element.
  explicit GuardedOutput(size_t count, T fill = std::numeric_limits<T>::quiet_NaN())
      : v(count + kGuard, T(kSentinel)), n(count) {
    std::fill(v.begin(), v.begin() + long(count), fill);
  }
  explicit GuardedOutput(const std::vector<T>& init) : GuardedOutput(init.size(), T(0)) {
    std::copy(init.begin(), init.end(), v.begin());
  }
  T* data() { return v.data(); }
  std::vector<T> payload() const { return {v.begin(), v.begin() + long(n)}; }
  bool guard_intact() const {
    for (size_t i = n; i < v.size(); ++i)
      if (v[i] != T(kSentinel)) return false;
    return true;
  }
};

}  // namespace bt::testing
