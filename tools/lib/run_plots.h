#pragma once
// The PNG plots at the end of a run, drawn from the run's log.jsonl (so a resumed run plots
// its whole history): loss.png (step losses), knn.png (kNN top-1 per epoch, epoch 0 = random
// init) and, for Barlow Twins, cross_correlation.png (C of the last batch, top-left 64×64).
#include <filesystem>

#include "methods/method.h"

namespace bt::tools {

void write_plots(const std::filesystem::path& out_dir, methods::Method& method);

}  // namespace bt::tools
