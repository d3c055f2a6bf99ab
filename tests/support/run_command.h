#pragma once
// Runs a program as a child process (through the shell) and checks how it ended: the
// command-line tests run the real executables.
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace bt::testing {

struct Outcome {
  int exit_code;       // 128 + the signal number when a signal ended the program
  std::string output;  // stdout and stderr
};

inline Outcome run(const std::string& command) {
  Outcome o{-1, {}};
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), int(buf.size()), pipe) != nullptr) o.output += buf.data();
  const int status = pclose(pipe);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return o;
}

// A non-zero exit that is not a signal, with `names` in the output.
inline void require_clean_failure(const Outcome& o, const std::string& names) {
  INFO(o.output);
  REQUIRE(o.exit_code != 0);
  REQUIRE(o.exit_code < 128);  // not killed by a signal
  REQUIRE(o.output.find(names) != std::string::npos);
}

}  // namespace bt::testing
