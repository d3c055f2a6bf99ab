#include "methods/method.h"

#include <cmath>

#include "engine/nn/batch_norm.h"
#include "methods/registry.h"

namespace bt::methods {

Method::Method(const MethodConfig& config, Rng& rng) : config_(config), group_(dist::make_local_group()) {
  backbone_ = register_module("backbone", std::make_shared<models::ResNet>(config.backbone, rng));
}

void Method::keep_embeddings(const Tensor& z1, const Tensor& z2) {
  last_z1_ = z1.detach();
  last_z2_ = z2.detach();
}

void Method::set_process_group(std::shared_ptr<dist::ProcessGroup> group, bool sync_backbone_bn) {
  group_ = group;
  for (const auto& [name, child] : named_children()) {
    const bool is_backbone = name == "backbone" || name == "target_backbone";
    nn::set_sync_group(*child, is_backbone && !sync_backbone_bn ? nullptr : group);
  }
}

Method::Embeddings Method::embed_views(nn::Module& head, const Tensor& view1, const Tensor& view2) {
  Embeddings z{head.forward(backbone_->forward(view1)), head.forward(backbone_->forward(view2))};
  keep_embeddings(z.z1, z.z2);
  return z;
}

int64_t scaled_width(int64_t d, double scale) {
  return std::max<int64_t>(8, int64_t(std::lround(double(d) * scale)));
}

std::unique_ptr<Method> make_method(const MethodConfig& config, Rng& rng) {
  return find_method(config.method).make(config, rng);
}

}  // namespace bt::methods
