#pragma once
// Where a training step's time goes, per op (step_bench --profile). Off unless enabled; when on:
// - an op's forward time is the wall time since the previous forward mark: every op calls
//   record() (engine/autograd.h) right after computing its output, and a network's forward is a
//   sequence of ops, so the time between two records is the second op's (plus the glue code
//   between them, which is small);
// - an op's backward time is its node's backward function, timed by Tensor::backward().
// Only the thread that runs the step records (the kernels' OpenMP threads never call record).
#include <string>
#include <vector>

namespace bt::op_profile {

void set_enabled(bool on);
bool enabled();

// The next op's forward time counts from now (call at the start of a timed region).
void restart_clock();
// Attributes the time since the last mark (or restart_clock) to `op`'s forward.
void mark_forward(const char* op);
void add_backward(const char* op, double seconds);
// While a backward pass runs, the ops its backward functions call are not forward marks; when
// it ends, the clock restarts.
void set_in_backward(bool on);
struct BackwardScope {
  BackwardScope() { set_in_backward(true); }
  ~BackwardScope() { set_in_backward(false); }
  BackwardScope(const BackwardScope&) = delete;
  BackwardScope& operator=(const BackwardScope&) = delete;
};

struct OpTime {
  std::string op;
  double forward_s = 0, backward_s = 0;
  long calls = 0;  // forward calls
};
// The totals since the last clear(), largest forward + backward first.
std::vector<OpTime> totals();
void clear();

}  // namespace bt::op_profile
