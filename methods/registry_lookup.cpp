// The lookups over the method list (methods/registry.cpp defines the list itself; the CLI fuzz
// harness links these lookups against a list of its own, fuzz/fuzz_cli_methods.cpp).
#include "engine/error.h"
#include "methods/registry.h"

namespace bt::methods {

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
