#pragma once
// Reproducible random test inputs: n values uniform in [lo, hi) from a seed.
#include <cstdint>
#include <random>
#include <vector>

namespace bt::testing {

template <class T>
std::vector<T> randv(size_t n, uint64_t seed, double lo = -1, double hi = 1) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> v(n);
  for (auto& e : v) e = T(u(g));
  return v;
}

}  // namespace bt::testing
