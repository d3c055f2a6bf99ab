#include <mutex>
#include <stdexcept>

#include "kernels/cases/families.h"

namespace bt::cases {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<Family> families{  // the built-in families
      matmul_family(),      conv2d_family(), ssl_family(),       elementwise_family(), reduce_family(),
      batch_norm_family(),  pool_family(),   normalize_family(), optim_family(),       softmax_family(),
      vicreg_family()};
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_family(Family family) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  for (const Family& f : r.families)
    if (f.name == family.name) throw std::invalid_argument("kernel family registered twice: " + family.name);
  r.families.push_back(std::move(family));
}

std::vector<std::string> family_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> names;
  for (const Family& f : r.families) names.push_back(f.name);
  return names;
}

std::vector<KernelCase> collect_cases(const SuiteOptions& options, const std::vector<std::string>& families) {
  std::vector<Family> chosen;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    for (const std::string& name : families) {
      bool known = false;
      for (const Family& f : r.families) known |= f.name == name;
      if (!known) throw std::invalid_argument("unknown kernel family: " + name);
    }
    for (const Family& f : r.families) {
      bool wanted = families.empty();
      for (const std::string& name : families) wanted |= f.name == name;
      if (wanted) chosen.push_back(f);
    }
  }
  std::vector<KernelCase> cases;
  for (const Family& f : chosen)
    for (KernelCase& c : f.cases(options)) cases.push_back(std::move(c));
  return cases;
}

}  // namespace bt::cases
