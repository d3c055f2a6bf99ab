// The Catch2 main of every test executable: sets the runtimes' environment first (engine/process_env.h).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "engine/process_env.h"

int main(int argc, char** argv) {
  bt::prepare_process(argv);
  return Catch::Session().run(argc, argv);
}
