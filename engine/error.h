#pragma once
// bt::Error and BT_CHECK: every user-facing failure is an exception with a one-line message.
#include <sstream>
#include <stdexcept>
#include <string>

namespace bt {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  throw Error(os.str());
}
}  // namespace detail

}  // namespace bt

// BT_CHECK(cond, "message parts", ...): throws bt::Error with the parts concatenated.
#define BT_CHECK(cond, ...)                                   \
  do {                                                        \
    if (!(cond)) ::bt::detail::fail(__VA_ARGS__);             \
  } while (0)
