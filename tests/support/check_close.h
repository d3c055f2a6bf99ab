#pragma once
// Elementwise comparison of a kernel's output with its reference (docs/design.md §7):
// |got − ref| <= atol + rtol·|ref|; prints the first mismatches; skips non-finite refs.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

namespace bt::testing {

template <class A, class B>
void check_close(const std::vector<A>& got, const std::vector<B>& ref, double atol, double rtol,
                 const char* what) {
  REQUIRE(got.size() == ref.size());
  size_t bad = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double r = double(ref[i]), g = double(got[i]);
    if (!std::isfinite(r)) continue;
    if (!(std::fabs(g - r) <= atol + rtol * std::fabs(r))) {
      if (bad < 5) std::printf("%s: mismatch at %zu: got %.9g, ref %.9g\n", what, i, g, r);
      ++bad;
    }
  }
  INFO(what << ": " << bad << " of " << ref.size() << " mismatched");
  CHECK(bad == 0);
}

}  // namespace bt::testing
