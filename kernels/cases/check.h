#pragma once
// Checking a version of a kernel case against its reference (docs/design.md §7): tolerance
// abs + rel·|ref| per element, non-finite reference elements skipped, the first mismatches
// reported with their indices, and every buffer's guard zones verified.
#include <string>
#include <vector>

#include "kernels/cases/kernel_case.h"

namespace bt::cases {

struct Mismatch {
  std::string where;  // "y[0,3,1,2]"
  double got, want;
};

struct CheckResult {
  bool ok = true;
  double max_abs_err = 0;   // over checked elements
  double max_tol_ratio = 0; // max |got − ref| / (atol + rtol·|ref|); ≤ 1 passes
  int64_t checked = 0, skipped = 0, bad = 0;
  std::vector<Mismatch> first;            // the first few mismatches
  std::vector<std::string> broken_guards; // buffers written out of bounds
  std::string message;                    // empty when ok, else a readable report
};

// Makes the inputs and runs one version ("reference" included) once.
CaseData run_version(const KernelCase& c, const std::string& version);

// Compares got's outputs with want's (same case), and checks every guard zone of got.
CheckResult compare(const CaseData& got, const CaseData& want, double atol, double rtol);

// Runs `version` and compares it with `ref` (= run_version(c, kReference)) at the case's
// tolerance for that version.
CheckResult check_version(const KernelCase& c, const std::string& version, const CaseData& ref);

}  // namespace bt::cases
