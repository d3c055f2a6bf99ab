#include "methods/moco/moco.h"

#include "engine/autograd.h"
#include "engine/dist/collectives.h"
#include "engine/nn/linear.h"
#include "engine/ops.h"
#include "engine/optim/ema.h"
#include "methods/moco/key_queue.h"
#include "methods/moco/moco_loss.h"

namespace bt::methods {

namespace {
// The key encoder's names start like BYOL's target ("target_backbone" is what
// Method::set_process_group treats as a backbone).
constexpr const char* kKeyPrefix = "target_";

std::shared_ptr<nn::Sequential> make_projector(int64_t in, int64_t hidden, int64_t out, Rng& rng) {
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(in, hidden, rng), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(hidden, out, rng)});
}
}  // namespace

Moco::Moco(const MethodConfig& config, Rng& rng, const MocoOptions& options) : Method(config, rng), options_(options) {
  BT_CHECK(options.queue_size > 0, "moco: the queue size must be positive, got ", options.queue_size);
  BT_CHECK(options.momentum >= 0 && options.momentum <= 1, "moco: the momentum must be in [0, 1], got ",
           options.momentum);
  BT_CHECK(options.temperature > 0, "moco: the temperature must be positive, got ", options.temperature);
  const int64_t hidden = config.proj_hidden ? config.proj_hidden : scaled_width(2048, config.head_scale);
  const int64_t out = config.proj_out ? config.proj_out : 128;
  const int64_t features = backbone_->feature_dim();
  projector_ = register_module("projector", make_projector(features, hidden, out, rng));
  // The key encoder starts as a copy of the query encoder and is never trained by gradients.
  key_backbone_ = register_module(std::string(kKeyPrefix) + "backbone",
                                  std::make_shared<models::ResNet>(config.backbone, rng));
  key_projector_ = register_module(std::string(kKeyPrefix) + "projector", make_projector(features, hidden, out, rng));
  key_backbone_->load_state_dict(backbone_->state_dict());
  key_projector_->load_state_dict(projector_->state_dict());
  for (Tensor& p : key_backbone_->parameters()) p.requires_grad_(false);
  for (Tensor& p : key_projector_->parameters()) p.requires_grad_(false);
  queue_ = register_buffer("queue", random_unit_rows(options.queue_size, out, rng));
  queue_ptr_ = register_buffer("queue_ptr", Tensor::zeros({1}));
}

nn::NamedTensors Moco::trainable_parameters() const {
  nn::NamedTensors out;
  for (auto& [name, p] : named_parameters())
    if (name.rfind(kKeyPrefix, 0) != 0) out.emplace_back(name, p);
  return out;
}

Tensor Moco::keys(const Tensor& view) {
  NoGradGuard no_grad;
  return l2_normalize(key_projector_->forward(key_backbone_->forward(view)));
}

Tensor Moco::loss(const Tensor& view1, const Tensor& view2) {
  Tensor z1 = projector_->forward(backbone_->forward(view1));
  Tensor q1 = l2_normalize(z1), k2 = keys(view2);
  if (!options_.symmetric) {
    keep_embeddings(z1, z1);  // the second view has only a key: the metrics watch view 1's
    pending_keys_ = k2;
    return moco_infonce_loss(q1, k2, queue_, options_.temperature);
  }
  Tensor z2 = projector_->forward(backbone_->forward(view2));
  Tensor q2 = l2_normalize(z2), k1 = keys(view1);
  keep_embeddings(z1, z2);
  pending_keys_ = cat({k1, k2}, 0);
  Tensor both = add(moco_infonce_loss(q1, k2, queue_, options_.temperature),
                    moco_infonce_loss(q2, k1, queue_, options_.temperature));
  return mul(both, 0.5);
}

void Moco::after_step(int64_t /*step*/, int64_t /*total_steps*/) {
  optim::ema_update_(key_backbone_->parameters(), backbone_->parameters(), options_.momentum);
  optim::ema_update_(key_projector_->parameters(), projector_->parameters(), options_.momentum);
  if (!pending_keys_.defined()) return;
  NoGradGuard no_grad;
  const Tensor keys = group_->world_size() > 1 ? dist::all_gather(pending_keys_, *group_) : pending_keys_;
  enqueue_keys_(queue_, queue_ptr_, keys);
  pending_keys_ = Tensor();
}

MocoOptions moco_options(const MethodConfig& c) {
  const MocoOptions d;
  return {.queue_size = c.moco_queue_size.value_or(d.queue_size),
          .momentum = c.moco_momentum.value_or(d.momentum),
          .temperature = c.temperature.value_or(d.temperature),
          .symmetric = c.moco_symmetric.value_or(d.symmetric)};
}

MethodEntry moco_entry() {
  return {.name = "moco",
          .description = "MoCo v2 (He et al. 2020, Chen et al. 2020): InfoNCE against a queue of a momentum encoder's keys",
          .make = [](const MethodConfig& c, Rng& rng) { return std::make_unique<Moco>(c, rng, moco_options(c)); },
          // solo-learn's CIFAR config (scripts/pretrain/cifar/mocov2plus.yaml): SGD, lr 0.3
          // per 256 images, weight decay 1e-4. Views: MoCo v2's augmentation, which SimSiam's
          // preset copies (crop scale 0.2–1, jitter 0.4/0.4/0.4/0.1, grayscale, blur).
          .recipe = {.optimizer = "sgd", .lr = 0.3, .weight_decay = 1e-4, .bias_lr_scale = 1.0, .views = "simsiam",
                     .temperature = MocoOptions{}.temperature},
          .plots = {.cross_correlation_heatmap = false}};
}

}  // namespace bt::methods
