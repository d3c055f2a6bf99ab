#pragma once
// Training progress on stderr: a bar redrawn in place on a terminal, plain lines otherwise
// (CI logs, pipes).
#include <chrono>
#include <cstdint>
#include <string>

namespace bt::tools {

class Progress {
 public:
  // total: steps in this epoch; line_every: in plain mode, print every this many steps.
  Progress(std::string label, int64_t total, int64_t line_every = 10);
  void update(int64_t done, double loss, double images_per_s);
  void finish(const std::string& summary);

 private:
  std::string label_;
  int64_t total_, line_every_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace bt::tools
