#pragma once
// What a GPU test does without a CUDA device: passes with a note, or, under BT_REQUIRE_GPU=1
// (bench/gpu_smoke.sh on a GPU machine), fails, so a smoke run cannot pass by skipping.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace bt::testing {

inline bool gpu_required() {
  const char* s = std::getenv("BT_REQUIRE_GPU");
  return s && *s && std::string(s) != "0";
}

// Call and return when the test needs a device that is not there.
inline void no_gpu_here() {
  if (gpu_required()) FAIL("no CUDA device, but BT_REQUIRE_GPU=1 requires one");
  SUCCEED("no CUDA device: nothing to run");
}

}  // namespace bt::testing
