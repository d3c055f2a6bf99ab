// bt_train's method flags reach the method: the recipe fills what the command line leaves
// unset (the contrastive temperature), and what it sets overrides the method's default.
#include <catch2/catch.hpp>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "methods/barlow_twins/barlow_twins.h"
#include "methods/moco/moco.h"
#include "methods/registry.h"
#include "tools/lib/train_cli.h"

namespace {

bt::tools::TrainConfig parse(std::vector<std::string> args) {
  CLI::App app;
  bt::tools::TrainFlags flags;
  bt::tools::add_train_options(app, flags);
  args.insert(args.begin(), "bt_train");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  app.parse(int(argv.size()), argv.data());
  return bt::tools::finish_train_config(app, flags);
}

}  // namespace

TEST_CASE("bt_train --temperature: unset, the method's own (SimCLR 0.5, MoCo 0.2); set, the flag's") {
  CHECK(parse({"--method", "simclr"}).model.temperature == 0.5);
  CHECK(parse({"--method", "moco"}).model.temperature == 0.2);
  CHECK_FALSE(parse({"--method", "barlow"}).model.temperature.has_value());
  CHECK(parse({"--method", "moco", "--temperature", "0.07"}).model.temperature == 0.07);
}

TEST_CASE("bt_train --moco-* flags build the MoCo the command line asks for") {
  const auto c = parse({"--method", "moco", "--moco-queue", "64", "--moco-momentum", "0.5",
                        "--moco-symmetric", "false", "--temperature", "0.1"});
  bt::Rng rng(1);
  auto m = bt::methods::find_method("moco").make(c.model, rng);
  const auto& o = dynamic_cast<const bt::methods::Moco&>(*m).options();
  CHECK(o.queue_size == 64);
  CHECK(o.momentum == 0.5);
  CHECK(o.temperature == 0.1);
  CHECK_FALSE(o.symmetric);
  CHECK(dynamic_cast<const bt::methods::Moco&>(*m).queue().size(0) == 64);
}

TEST_CASE("bt_train --lambda auto asks Barlow Twins for 1/(D − 1), a number for itself") {
  auto automatic = parse({"--lambda", "auto", "--proj-out", "33"});
  bt::Rng rng(1);
  auto m = bt::methods::find_method("barlow").make(automatic.model, rng);
  CHECK(dynamic_cast<const bt::methods::BarlowTwins&>(*m).lambda() == Approx(1.0 / 32));
  const auto c = parse({"--lambda", "0.02"});
  CHECK_FALSE(c.model.bt_lambda_auto);
  CHECK(c.model.bt_lambda == 0.02);
}
