#include "tools/lib/train_config.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "methods/registry.h"

namespace bt::tools {

void TrainConfig::apply_method_defaults() {
  const methods::Recipe& r = methods::find_method(model.method).recipe;  // the method's own file
  if (!optimizer) optimizer = r.optimizer;
  if (!lr) lr = r.lr;
  if (!weight_decay) weight_decay = r.weight_decay;
  if (!bias_lr_scale) bias_lr_scale = r.bias_lr_scale;
  if (!views) views = r.views;
  if (!model.temperature) model.temperature = r.temperature;
  if (!warmup_epochs) warmup_epochs = std::min<int64_t>(10, epochs / 10);
}

std::string TrainConfig::to_json() const {
  nlohmann::json j = {
      {"method", model.method},
      {"arch", model.backbone.arch},
      {"width", model.backbone.width},
      {"stem", model.backbone.stem == models::Stem::cifar ? "cifar" : "imagenet"},
      {"head_scale", model.head_scale},
      {"proj_hidden", model.proj_hidden},
      {"proj_out", model.proj_out},
      {"pred_hidden", model.pred_hidden},
      {"bt_lambda", model.bt_lambda_auto ? nlohmann::json("auto") : nlohmann::json(model.bt_lambda)},
      {"temperature", model.temperature ? nlohmann::json(*model.temperature) : nlohmann::json(nullptr)},
      {"byol_tau_base", model.byol_tau_base},
      {"data", data},
      {"val_data", val_data},
      {"val_split", val_split},
      {"synthetic_size", synthetic_size},
      {"image_size", image_size},
      {"views", views.value()},
      {"epochs", epochs},
      {"batch", batch},
      {"max_steps_per_epoch", max_steps_per_epoch},
      {"optimizer", optimizer.value()},
      {"lr", lr.value()},
      {"weight_decay", weight_decay.value()},
      {"bias_lr_scale", bias_lr_scale.value()},
      {"momentum", momentum},
      {"lars_eta", lars_eta},
      {"warmup_epochs", warmup_epochs.value()},
      {"seed", seed},
      {"device", device},
      {"precision", precision},
      {"threads", threads},
      {"knn_k", knn_k},
      {"knn_t", knn_t},
      {"knn_bank", knn_bank},
      {"sync_bn", sync_bn},
      {"world_size", world_size},
  };
  // A path need not be UTF-8 (e.g. a Latin-1 folder name); JSON must be: such bytes are written
  // as U+FFFD, the record of the run keeps the rest.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string describe(const TrainConfig& c) {
  char line[512];
  std::snprintf(line, sizeof line,
                "%s: %s width %ld, heads x%g, data %s, batch %ld, %ld epochs (warmup %ld), %s lr %g x %ld/256, "
                "wd %g, views %s, device %s, precision %s",
                c.model.method.c_str(), c.model.backbone.arch.c_str(), long(c.model.backbone.width),
                c.model.head_scale, c.data.c_str(), long(c.batch), long(c.epochs), long(c.warmup_epochs.value()),
                c.optimizer.value().c_str(), c.lr.value(), long(c.batch), c.weight_decay.value(), c.views.value().c_str(), c.device.c_str(),
                c.precision.c_str());
  return line;
}

}  // namespace bt::tools
