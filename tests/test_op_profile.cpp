// engine/op_profile.h: each op's forward calls are counted and timed, and its node's backward.
#include <catch2/catch.hpp>

#include "engine/op_profile.h"
#include "engine/ops.h"
#include "engine/rng.h"

using namespace bt;

TEST_CASE("op_profile counts and times each op's forward and backward, and nothing when off") {
  Rng rng(1);
  Tensor a = randn({200, 200}, rng).requires_grad_(true), b = randn({200, 200}, rng);
  op_profile::clear();
  sum(matmul(a, b)).backward();  // off: nothing recorded
  CHECK(op_profile::totals().empty());

  op_profile::set_enabled(true);
  for (int i = 0; i < 3; ++i) sum(relu(matmul(a, b))).backward();
  op_profile::set_enabled(false);
  const auto totals = op_profile::totals();
  const auto find = [&](const std::string& op) {
    for (const auto& t : totals)
      if (t.op == op) return t;
    FAIL("no entry for " << op);
    return op_profile::OpTime{};
  };
  for (const char* op : {"matmul", "relu", "sum"}) {
    INFO(op);
    const auto t = find(op);
    CHECK(t.calls == 3);
    CHECK(t.forward_s > 0);
    CHECK(t.backward_s > 0);
  }
  op_profile::clear();
  CHECK(op_profile::totals().empty());
}
