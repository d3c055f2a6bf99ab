// The method list the CLI fuzz harness links instead of methods/registry.cpp, whose entries
// bring in every method and so the whole engine (which clang 14 cannot build: fuzz/CMakeLists.txt).
// One entry, named after MethodConfig's default method, so that a command line without --method
// runs through the recipe, describe and to_json like bt_train's; any other --method value is
// rejected as unknown, which exercises that path too. Its recipe is a valid one, not a method's.
#include "methods/registry.h"

namespace bt::methods {

const std::vector<MethodEntry>& method_registry() {
  static const std::vector<MethodEntry> entries{
      {.name = MethodConfig{}.method,
       .description = "the default method (the fuzz harness's stand-in entry)",
       .make = nullptr,
       .recipe = {.optimizer = "lars", .lr = 0.3, .weight_decay = 1e-4, .bias_lr_scale = 1.0, .views = "asymmetric"},
       .plots = {.cross_correlation_heatmap = false}},
  };
  return entries;
}

}  // namespace bt::methods
