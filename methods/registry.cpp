#include "methods/registry.h"

#include "engine/error.h"
#include "methods/barlow_twins/barlow_twins.h"
#include "methods/byol/byol.h"
#include "methods/moco/moco.h"
#include "methods/rotation/rotation.h"
#include "methods/simclr/simclr.h"
#include "methods/simsiam/simsiam.h"
#include "methods/vicreg/vicreg.h"

namespace bt::methods {

const std::vector<MethodEntry>& method_registry() {
  static const std::vector<MethodEntry> entries{
      barlow_twins_entry(),
      byol_entry(),
      simsiam_entry(),
      simclr_entry(),
      vicreg_entry(),
      rotation_entry(),
      moco_entry(),
  };
  return entries;
}

const MethodEntry& find_method(const std::string& name) {
  for (const MethodEntry& e : method_registry())
    if (e.name == name) return e;
  throw Error("unknown method '" + name + "': expected " + method_names_text());
}

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (const MethodEntry& e : method_registry()) names.push_back(e.name);
  return names;
}

std::string method_names_text() {
  const std::vector<std::string> names = method_names();
  std::string text;
  for (size_t i = 0; i < names.size(); ++i)
    text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return text;
}

std::string method_help_text() {
  std::string text;
  for (const MethodEntry& e : method_registry()) text += (text.empty() ? "" : "; ") + e.name + ": " + e.description;
  return text;
}

}  // namespace bt::methods
