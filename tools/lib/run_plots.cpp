#include "tools/lib/run_plots.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "methods/registry.h"
#include "methods/barlow_twins/barlow_twins_loss.h"
#include "tools/lib/plot.h"

namespace bt::tools {

void write_plots(const std::filesystem::path& out_dir, methods::Method& method) {
  Series loss{"loss", {}, {}}, knn{"kNN top-1 (%)", {}, {}};
  std::ifstream in(out_dir / "log.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) continue;
    if (j.contains("step") && j["loss"].is_number()) {
      loss.x.push_back(j["step"].get<double>());
      loss.y.push_back(j["loss"].get<double>());
    } else if (j.contains("epoch") && j["knn_top1"].is_number()) {
      knn.x.push_back(j["epoch"].get<double>());
      knn.y.push_back(100.0 * j["knn_top1"].get<double>());
    }
  }
  const std::string name = method.name();
  if (!loss.x.empty())
    save_line_plot(out_dir / "loss.png", name + " training loss", {loss}, {.x_label = "step", .y_label = "loss"});
  if (!knn.x.empty()) {
    std::vector<Series> curves = {knn};
    if (knn.x.front() == 0)  // epoch 0 is the random-init encoder: the baseline training must beat
      curves.push_back({"random init", {0, std::max(knn.x.back(), 1.0)}, {knn.y.front(), knn.y.front()}, true});
    save_line_plot(out_dir / "knn.png", name + " kNN accuracy", curves, {.x_label = "epoch", .y_label = "top-1 %"});
  }
  if (methods::find_method(name).plots.cross_correlation_heatmap && method.last_z1().defined()) {
    const Tensor c = methods::barlow_twins_cross_correlation(method.last_z1().to(Device::cpu),
                                                             method.last_z2().to(Device::cpu));
    save_heatmap(out_dir / "cross_correlation.png", c, {.crop = 64, .title = "Barlow Twins C (top-left 64x64)"});
  }
}

}  // namespace bt::tools
