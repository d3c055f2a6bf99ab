// A deliberately broken MPI job for test_dist_runs: rank 0 enters an all_reduce that the last
// rank never joins. mode "stall": the last rank sleeps (a hung rank); "exit": it exits without
// MPI_Finalize (a dead rank). Either way every rank must end with an error within the
// collectives' deadline (argv[2] seconds), never hang.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "engine/dist/process_group.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: dist_fault stall|exit TIMEOUT_S\n");
    return 2;
  }
  const std::string mode = argv[1];
  auto group = bt::dist::make_mpi_group(std::atof(argv[2]));
  if (group->rank() == group->world_size() - 1) {
    if (mode == "exit") std::_Exit(0);
    std::this_thread::sleep_for(std::chrono::seconds(120));
    return 0;
  }
  bt::Tensor x = bt::Tensor::ones({16});
  group->all_reduce_sum_(x);
  std::printf("all_reduce completed, which it must not\n");
  return 0;
}
