#pragma once
// simt::Error, on its own so host code can catch it without the emulator's CUDA keywords.
#include <stdexcept>

namespace simt {

// Every failure of a launch (bad configuration, deadlock, divergent barrier, no CUDA device,
// an exception thrown by kernel code) reaches the host thread as a simt::Error.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace simt
