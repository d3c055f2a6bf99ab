#include "kernels/cases/check.h"

#include <cmath>
#include <sstream>

namespace bt::cases {
namespace {

constexpr size_t kMaxReported = 5;

}  // namespace

CaseData run_version(const KernelCase& c, const std::string& version) {
  CaseData d = c.make_inputs();
  c.run(version, d);
  return d;
}

CheckResult compare(const CaseData& got, const CaseData& want, double atol, double rtol) {
  CheckResult r;
  for (const auto* list : {&got.inputs, &got.outputs})
    for (const Buffer& b : *list)
      if (!b.guards_intact()) r.broken_guards.push_back(b.name());
  for (size_t o = 0; o < want.outputs.size(); ++o) {
    const Buffer& g = got.outputs[o];
    const Buffer& w = want.outputs[o];
    for (int64_t i = 0; i < w.numel(); ++i) {
      const double ref = w.get(i), val = g.get(i);
      if (!std::isfinite(ref)) {
        ++r.skipped;
        continue;
      }
      ++r.checked;
      const double err = std::abs(val - ref), tol = atol + rtol * std::abs(ref);
      if (err <= tol) {
        r.max_abs_err = std::max(r.max_abs_err, err);
        r.max_tol_ratio = std::max(r.max_tol_ratio, tol > 0 ? err / tol : 0.0);
        continue;
      }
      // err > tol, or err is NaN (got non-finite where ref is finite)
      ++r.bad;
      r.max_abs_err = std::isnan(err) ? err : std::max(r.max_abs_err, err);
      r.max_tol_ratio = std::isnan(err) ? err : std::max(r.max_tol_ratio, err / tol);
      if (r.first.size() < kMaxReported) r.first.push_back({g.index_str(i), val, ref});
    }
  }
  r.ok = r.bad == 0 && r.broken_guards.empty();
  if (!r.ok) {
    std::ostringstream m;
    m.precision(9);
    m << r.bad << " of " << r.checked << " elements outside atol " << atol << " + rtol " << rtol << "·|ref|";
    for (const Mismatch& x : r.first) m << "\n  " << x.where << ": got " << x.got << ", want " << x.want;
    for (const std::string& b : r.broken_guards) m << "\n  guard zone of " << b << " overwritten";
    r.message = m.str();
  }
  return r;
}

CheckResult check_version(const KernelCase& c, const std::string& version, const CaseData& ref) {
  const auto it = c.tol_scale.find(version);
  const double scale = it == c.tol_scale.end() ? 1.0 : it->second;
  return compare(run_version(c, version), ref, scale * c.atol, scale * c.rtol);
}

}  // namespace bt::cases
