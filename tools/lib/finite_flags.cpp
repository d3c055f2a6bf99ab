#include "tools/lib/finite_flags.h"

#include <cmath>
#include <cstdlib>

#include "engine/error.h"

namespace bt::tools {

void require_finite(const std::string& flag, double value, const std::string& text) {
  BT_CHECK(std::isfinite(value), flag, ": expected a finite number, got '", text, "'");
}

void reject_non_finite_flags(const CLI::App& app) {
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_type_name().find("FLOAT") == std::string::npos) continue;
    for (const std::string& text : opt->results()) {
      char* end = nullptr;
      const double value = std::strtod(text.c_str(), &end);
      if (end != text.c_str()) require_finite(opt->get_name(), value, text);
    }
  }
}

}  // namespace bt::tools
