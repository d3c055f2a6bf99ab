// bt_train: self-supervised training of a ResNet with one of the SSL methods of methods/registry.h.
// With no --data it trains on the built-in synthetic dataset, so it runs anywhere.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "engine/device.h"
#include "engine/process_env.h"
#include "tools/lib/monitor.h"
#include "tools/lib/train_cli.h"
#include "tools/lib/trainer.h"

using namespace bt;

int main(int argc, char** argv) {
  prepare_process(argv);
  tools::TrainFlags flags;
  CLI::App app{"bt_train: self-supervised training of ResNet encoders on the CPU"};
  tools::add_train_options(app, flags);
  CLI11_PARSE(app, argc, argv);

  // Under mpirun, the MPI (or, with --device cuda, NCCL) process group; else a world of 1 that
  // never initialises MPI (engine/dist/process_group.h).
  std::shared_ptr<dist::ProcessGroup> group;
  try {
    const tools::TrainConfig c = tools::finish_train_config(app, flags);
    group = dist::init_from_environment(parse_device(c.device), c.dist_timeout);
    if (group->rank() == 0) std::fprintf(stderr, "%s\n", tools::describe(c).c_str());
    const tools::TrainResult r = tools::train(c, group);
    if (group->rank() == 0 && r.epochs.empty())  // resumed from the last epoch's checkpoint: nothing to train
      std::printf("done: the checkpoint already holds all %ld epochs; outputs in %s\n", long(c.epochs), c.out.c_str());
    else if (group->rank() == 0)
      std::printf("done: %ld epochs, final loss %.4f, kNN top-1 %s; outputs in %s\n", long(r.epochs.back().epoch),
                  r.epochs.back().loss, tools::knn_text(r.epochs.back().knn_top1).c_str(), c.out.c_str());
    return 0;
  } catch (const std::exception& e) {
    // A failing rank ends all of them now rather than leaving them at their next collective.
    if (group && group->world_size() > 1) group->abort(std::string("bt_train: error: ") + e.what());
    std::fprintf(stderr, "bt_train: error: %s\n", e.what());
    return 1;
  }
}
