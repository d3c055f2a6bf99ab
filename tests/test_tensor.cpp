// Tensor metadata, views, copies, the caching allocator and error messages.
#include <catch2/catch.hpp>

#include "engine/allocator.h"
#include "engine/ops.h"

using namespace bt;

TEST_CASE("tensor creation and contiguous strides") {
  Tensor t = Tensor::zeros({2, 3, 4});
  REQUIRE(t.numel() == 24);
  REQUIRE(t.strides() == Shape{12, 4, 1});
  REQUIRE(t.is_contiguous());
  REQUIRE(t.dtype() == DType::f32);
  Tensor f = Tensor::full({2}, 2.5, DType::f64);
  REQUIRE(f.to_vector() == std::vector<double>{2.5, 2.5});
}

TEST_CASE("views share storage: transpose, slice, reshape") {
  Tensor a = Tensor::from_vector(std::vector<double>{0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor at = a.t();
  REQUIRE(at.shape() == Shape{3, 2});
  REQUIRE_FALSE(at.is_contiguous());
  REQUIRE(at.contiguous().to_vector() == std::vector<double>{0, 3, 1, 4, 2, 5});
  Tensor s = a.slice(1, 1, 3);
  REQUIRE(s.to_vector() == std::vector<double>{1, 2, 4, 5});
  s.fill_(9);  // writes through the view's strides into a's storage
  REQUIRE(a.to_vector() == std::vector<double>{0, 9, 9, 3, 9, 9});
  a.data<float>()[1] = 7;
  REQUIRE(s.to_vector()[0] == 7);  // the view sees writes to its base
  REQUIRE(a.reshape({3, -1}).shape() == Shape{3, 2});
  REQUIRE(a.flatten().shape() == Shape{6});
}

TEST_CASE("copy_ converts dtype and writes through strides") {
  Tensor a = Tensor::zeros({2, 2});
  Tensor src = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2}, DType::f64);
  a.t().copy_(src);  // a = srcᵀ
  REQUIRE(a.to_vector() == std::vector<double>{1, 3, 2, 4});
}

TEST_CASE("caching allocator reuses freed blocks and tracks the peak") {
  CachingAllocator& alloc = allocator(Device::cpu);
  { Tensor warm = Tensor::empty({1000}); }
  const AllocatorStats before = alloc.stats();
  alloc.reset_peak();
  {
    Tensor a = Tensor::empty({1000});
    Tensor b = Tensor::empty({1000});
    REQUIRE(alloc.stats().live_bytes == before.live_bytes + 2 * CachingAllocator::round_size(4000));
  }
  const AllocatorStats after = alloc.stats();
  REQUIRE(after.live_bytes == before.live_bytes);
  REQUIRE(after.cache_hits >= before.cache_hits + 1);  // the warm-up block was reused
  REQUIRE(after.peak_live_bytes == before.live_bytes + 2 * CachingAllocator::round_size(4000));
}

TEST_CASE("bad shapes and devices raise errors naming what was wrong") {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 5});
  REQUIRE_THROWS_WITH(matmul(a, b), Catch::Contains("(2, 3)") && Catch::Contains("(4, 5)"));
  REQUIRE_THROWS_WITH(add(a, b), Catch::Contains("cannot be broadcast"));
  REQUIRE_THROWS_WITH(a.reshape({4, 2}), Catch::Contains("cannot reshape"));
  REQUIRE_THROWS_WITH(a.slice(1, 2, 5), Catch::Contains("out of range"));
  Tensor c = Tensor::zeros({2, 3}, DType::f32, Device::simt);
  REQUIRE_THROWS_WITH(add(a, c), Catch::Contains("different devices"));
  Tensor d = Tensor::zeros({2, 3}, DType::f64);
  REQUIRE_THROWS_WITH(add(a, d), Catch::Contains("different dtypes"));
  REQUIRE_THROWS_WITH(Tensor::zeros({2}, DType::f32, Device::cuda), Catch::Contains("no CUDA device"));
}
