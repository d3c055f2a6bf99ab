#include "engine/op_profile.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace bt::op_profile {

namespace {
using Clock = std::chrono::steady_clock;
bool g_enabled = false;
bool g_in_backward = false;
Clock::time_point g_last;
std::map<std::string, OpTime, std::less<>> g_totals;

OpTime& entry(const char* op) {
  auto it = g_totals.find(op);
  if (it == g_totals.end()) it = g_totals.emplace(op, OpTime{.op = op}).first;
  return it->second;
}
}  // namespace

void set_enabled(bool on) {
  g_enabled = on;
  restart_clock();
}
bool enabled() { return g_enabled; }

void restart_clock() { g_last = Clock::now(); }

void mark_forward(const char* op) {
  if (g_in_backward) return;
  const Clock::time_point now = Clock::now();
  OpTime& t = entry(op);
  t.forward_s += std::chrono::duration<double>(now - g_last).count();
  ++t.calls;
  g_last = now;
}

void add_backward(const char* op, double seconds) { entry(op).backward_s += seconds; }

void set_in_backward(bool on) {
  g_in_backward = on;
  if (!on && g_enabled) restart_clock();
}

std::vector<OpTime> totals() {
  std::vector<OpTime> out;
  for (const auto& [name, t] : g_totals) out.push_back(t);
  std::sort(out.begin(), out.end(), [](const OpTime& a, const OpTime& b) {
    return a.forward_s + a.backward_s > b.forward_s + b.backward_s;
  });
  return out;
}

void clear() { g_totals.clear(); }

}  // namespace bt::op_profile
