// cpu::binary and cpu::strided_copy merge the dimensions their operands address as one
// (kernels/cpu/elementwise.cpp, MergedDims). Against a plain loop over every multi-index: dense
// operands (all dimensions merge), size-1 dimensions, a broadcast operand, a padded row stride
// (the inner dimensions merge, the outer must not), a transposed view (nothing merges), and a
// broadcast whose stride-0 dimensions sit next to each other.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "kernels/cpu/elementwise.h"

using namespace bt::cpu;

namespace {

struct Layout {
  std::vector<int64_t> shape, a_strides, b_strides;  // b_strides: the second operand or the copy's destination
};

int64_t offset(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides, int64_t flat) {
  int64_t off = 0;
  for (size_t d = shape.size(); d-- > 0;) {
    off += flat % shape[d] * strides[d];
    flat /= shape[d];
  }
  return off;
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

// Enough storage for every offset the strides reach.
int64_t span(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides) {
  int64_t last = 0;
  for (size_t d = 0; d < shape.size(); ++d) last += (shape[d] - 1) * strides[d];
  return last + 1;
}

std::vector<float> ramp(int64_t n, float scale) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = scale * float(i % 1013) - 3.0f;
  return v;
}

const std::vector<Layout> kLayouts = {
    {{64, 16, 32, 32}, {16384, 1024, 32, 1}, {16384, 1024, 32, 1}},  // dense: one run of 2²⁰
    {{3, 1, 5, 1, 7}, {35, 35, 7, 7, 1}, {35, 1, 7, 99, 1}},         // size-1 dimensions, any stride
    {{40, 16, 49}, {784, 49, 1}, {0, 1, 0}},                         // broadcast (C) over (N, C, HW)
    {{300, 17, 9}, {160, 9, 1}, {153, 9, 1}},                        // a row stride of 160 > 17·9
    {{37, 53}, {1, 37}, {53, 1}},                                    // a transposed view
    {{6, 5, 4, 3}, {0, 0, 3, 1}, {60, 12, 3, 1}},                    // stride 0 over the two outer dims
};

}  // namespace

TEST_CASE("binary on coalescable and non-coalescable strides equals the per-index loop", "[elementwise]") {
  for (const Layout& l : kLayouts) {
    const int64_t n = numel(l.shape);
    const std::vector<float> a = ramp(span(l.shape, l.a_strides), 0.5f), b = ramp(span(l.shape, l.b_strides), 0.25f);
    std::vector<float> got(size_t(n), -99.0f);
    binary(BinaryOp::sub, int(l.shape.size()), l.shape.data(), a.data(), l.a_strides.data(), b.data(),
           l.b_strides.data(), got.data());
    size_t wrong = 0;
    for (int64_t i = 0; i < n; ++i)
      wrong += got[size_t(i)] != a[size_t(offset(l.shape, l.a_strides, i))] - b[size_t(offset(l.shape, l.b_strides, i))];
    INFO("shape of " << l.shape.size() << " dims, " << n << " elements");
    CHECK(wrong == 0);
  }
}

TEST_CASE("binary may write over its first operand (dense, in place)", "[elementwise]") {
  const std::vector<int64_t> shape{8, 16, 33, 31}, strides{16 * 33 * 31, 33 * 31, 31, 1};
  std::vector<float> a = ramp(numel(shape), 0.5f);
  const std::vector<float> b = ramp(numel(shape), 0.125f), before = a;
  binary(BinaryOp::add, 4, shape.data(), a.data(), strides.data(), b.data(), strides.data(), a.data());
  size_t wrong = 0;
  for (size_t i = 0; i < a.size(); ++i) wrong += a[i] != before[i] + b[i];
  CHECK(wrong == 0);
}

TEST_CASE("strided_copy on coalescable and non-coalescable strides equals the per-index loop", "[elementwise]") {
  for (const Layout& l : kLayouts) {
    if (l.b_strides == std::vector<int64_t>{0, 1, 0}) continue;  // a destination cannot broadcast
    const int64_t n = numel(l.shape);
    const std::vector<float> src = ramp(span(l.shape, l.a_strides), 0.5f);
    std::vector<double> dst(size_t(span(l.shape, l.b_strides)), -99.0);
    strided_copy(int(l.shape.size()), l.shape.data(), src.data(), l.a_strides.data(), dst.data(), l.b_strides.data());
    size_t wrong = 0;
    for (int64_t i = 0; i < n; ++i)
      wrong += dst[size_t(offset(l.shape, l.b_strides, i))] != double(src[size_t(offset(l.shape, l.a_strides, i))]);
    INFO("shape of " << l.shape.size() << " dims, " << n << " elements");
    CHECK(wrong == 0);
  }
}
