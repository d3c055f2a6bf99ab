// libFuzzer harness of bt_train's command line (tools/lib/train_cli.h): the input, split at each
// NUL or newline byte, is the argument list after the program name, parsed by the CLI11 app
// bt_train builds, then turned into the run's config by finish_train_config, described and
// written as JSON (the log's first line and the checkpoint's metadata). CLI11's parse errors
// (printed as bt_train prints them, --help included) and bt::Error (a flag's bad value, a
// one-line message) are expected; any other exception, a crash or a sanitizer report is a
// finding. bt_train reads no configuration file: its flags are all there is.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "tools/lib/train_cli.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args = {"bt_train"};
  std::string arg;
  for (size_t i = 0; i < size; ++i) {
    const char c = char(data[i]);
    if (c == '\0' || c == '\n') {
      args.push_back(arg);
      arg.clear();
    } else {
      arg += c;
    }
  }
  if (size > 0) args.push_back(arg);
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);

  // One app for all inputs (building its 45 options costs more than a parse): CLI11 clears its
  // results before each parse, and the bound flags are reset to their defaults here.
  static bt::tools::TrainFlags flags;
  static CLI::App app{"bt_train"};
  static const bool built = (bt::tools::add_train_options(app, flags), true);
  (void)built;
  flags = bt::tools::TrainFlags{};
  try {
    app.parse(int(args.size()), argv.data());
    const bt::tools::TrainConfig config = bt::tools::finish_train_config(app, flags);
    const std::string line = bt::tools::describe(config), json = config.to_json();
    if (line.empty() || json.empty()) __builtin_trap();
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    app.exit(e, out, err);  // what CLI11_PARSE does in bt_train, into strings
  } catch (const bt::Error&) {
  }
  return 0;
}
