#pragma once
// Runs a shell command for the tests of whole programs, capturing stdout and stderr together.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace bt::testing {

struct Outcome {
  int exit_code;       // 128 + signal when killed by one
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

}  // namespace bt::testing
