#pragma once
// Non-finite values of floating-point flags. CLI11 parses "nan", "inf" and "1e999" into a double,
// and its range checks (PositiveNumber, Range) let NaN through, so each program calls this after
// parsing.
#include <CLI/CLI.hpp>
#include <string>

namespace bt::tools {

// Throws bt::Error "--flag: expected a finite number, got 'nan'" for the first floating-point
// option of `app` given a NaN or infinite value.
void reject_non_finite_flags(const CLI::App& app);

// Throws the same error if `text` (the value of `flag`) parses as a non-finite number.
void require_finite(const std::string& flag, double value, const std::string& text);

}  // namespace bt::tools
