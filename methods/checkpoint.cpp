#include "methods/checkpoint.h"

#include <sstream>

#include "engine/serialize/safetensors.h"

namespace bt::methods {

namespace {

const std::string kModel = "model.";
const std::string kOptim = "optim.";

// What must match between a checkpoint and the run that loads it.
StringMap identity(const Method& m) {
  const auto& c = m.backbone().config();
  return {{"method", m.name()},
          {"arch", c.arch},
          {"width", std::to_string(c.width)},
          {"stem", c.stem == models::Stem::cifar ? "cifar" : "imagenet"}};
}

std::string rng_str(const std::array<uint64_t, 4>& s) {
  return std::to_string(s[0]) + " " + std::to_string(s[1]) + " " + std::to_string(s[2]) + " " +
         std::to_string(s[3]);
}

std::string meta(const std::string& path, const StringMap& m, const std::string& key) {
  auto it = m.find(key);
  BT_CHECK(it != m.end(), "checkpoint ", path, ": no '", key, "' in its metadata (not a bt checkpoint?)");
  return it->second;
}

int64_t meta_int(const std::string& path, const StringMap& m, const std::string& key) {
  const std::string v = meta(path, m, key);
  try {
    return std::stoll(v);
  } catch (const std::exception&) {
    throw Error("checkpoint " + path + ": metadata '" + key + "' is not an integer: '" + v + "'");
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const Method& method, const optim::Optimizer& opt,
                     const TrainingState& state) {
  TensorMap tensors;
  for (auto& [name, t] : method.state_dict()) tensors[kModel + name] = t;
  for (auto& [name, t] : opt.state()) tensors[kOptim + name] = t;
  StringMap metadata = identity(method);
  metadata["step"] = std::to_string(state.step);
  metadata["epoch"] = std::to_string(state.epoch);
  metadata["rng"] = rng_str(state.rng);
  metadata["config"] = state.config_json;
  save_safetensors(path, tensors, metadata);
}

TrainingState load_checkpoint(const std::string& path, Method& method, optim::Optimizer& opt) {
  SafetensorsContents file = load_safetensors(path);
  for (auto& [key, expected] : identity(method)) {
    const std::string found = meta(path, file.metadata, key);
    BT_CHECK(found == expected, "checkpoint ", path, " is for ", key, " '", found,
             "', but this run uses '", expected, "'");
  }
  nn::StateDict model, optim_state;
  for (auto& [name, t] : file.tensors) {
    if (name.rfind(kModel, 0) == 0) model[name.substr(kModel.size())] = t;
    else if (name.rfind(kOptim, 0) == 0) optim_state[name.substr(kOptim.size())] = t;
    else throw Error("checkpoint " + path + ": unexpected tensor '" + name + "'");
  }
  try {
    method.load_state_dict(model, /*strict=*/true);
    opt.load_state(optim_state);
  } catch (const Error& e) {
    throw Error("checkpoint " + path + ": " + e.what());
  }
  TrainingState state;
  state.step = meta_int(path, file.metadata, "step");
  state.epoch = meta_int(path, file.metadata, "epoch");
  state.config_json = meta(path, file.metadata, "config");
  const std::string rng = meta(path, file.metadata, "rng");
  std::istringstream is(rng);
  for (auto& w : state.rng) BT_CHECK(bool(is >> w), "checkpoint ", path, ": malformed rng state '", rng, "'");
  return state;
}

void export_backbone(const std::string& path, Method& method) {
  TensorMap tensors;
  for (auto& [name, t] : method.backbone().state_dict()) tensors[name] = t.to(DType::f32);
  const auto& c = method.backbone().config();
  save_safetensors(path, tensors, {{"format", "pt"}, {"arch", c.arch}, {"width", std::to_string(c.width)},
                                   {"stem", c.stem == models::Stem::cifar ? "cifar" : "imagenet"},
                                   {"method", method.name()}});
}

}  // namespace bt::methods
