#pragma once
// MoCo v2 (He et al. 2020; Chen, Fan, Girshick & He 2020): a query encoder (backbone + MLP
// projector feature → 2048 → 128, Linear-ReLU-Linear with biases, no BN; the hidden width
// scaled by head_scale) and a key encoder, its momentum copy θ_k ← m·θ_k + (1 − m)·θ_q after
// every step (engine/optim/ema.h), which gets no gradient. Queries and keys are unit vectors;
// the loss is InfoNCE (methods/moco/moco_loss.h) with the positive q·k of the other view and K
// negatives from a queue of past keys (methods/moco/key_queue.h), τ = 0.2.
//   symmetric (default, as solo-learn's CIFAR config): ½ (L(q1, k2) + L(q2, k1)), both views'
//   keys enqueued (2N a step, view 1's first); otherwise L(q1, k2), k2 enqueued.
// One queue for both views (solo-learn keeps one per view). The key encoder's BatchNorms use
// their own batch statistics, without MoCo's shuffled BN across GPUs. The keys are enqueued in
// after_step, so the step's loss sees the queue from before it. Data-parallel: the keys of
// every rank are all-gathered before the enqueue (rank order), so all ranks hold one queue
// (bt_train at world 2 with --sync-bn all gives world 1's step losses).
// CIFAR settings here: K = 4096, m = 0.99 (solo-learn's CIFAR run: K = 32768, output 256,
// m from 0.99 to 0.999).
#include "methods/registry.h"

namespace bt::methods {

struct MocoOptions {
  int64_t queue_size = 4096;  // K
  double momentum = 0.99;     // m of the key encoder
  double temperature = 0.2;   // τ
  bool symmetric = true;
};

// The options a MethodConfig asks for (its moco_* fields and temperature), the defaults above
// where unset.
MocoOptions moco_options(const MethodConfig& config);

class Moco : public Method {
 public:
  Moco(const MethodConfig& config, Rng& rng, const MocoOptions& options = {});
  Tensor loss(const Tensor& view1, const Tensor& view2) override;
  // The momentum update of the key encoder, then the enqueue of the last loss()'s keys.
  void after_step(int64_t step, int64_t total_steps) override;
  nn::NamedTensors trainable_parameters() const override;
  std::string name() const override { return "moco"; }

  const MocoOptions& options() const { return options_; }
  nn::Sequential& projector() { return *projector_; }
  models::ResNet& key_backbone() { return *key_backbone_; }
  nn::Sequential& key_projector() { return *key_projector_; }
  const Tensor& queue() const { return queue_; }          // (K, D) unit rows
  const Tensor& queue_ptr() const { return queue_ptr_; }  // (1): the next row written
  // The unit keys of `view` from the key encoder, without gradient.
  Tensor keys(const Tensor& view);

 private:
  MocoOptions options_;
  std::shared_ptr<nn::Sequential> projector_, key_projector_;
  std::shared_ptr<models::ResNet> key_backbone_;
  Tensor queue_, queue_ptr_;
  Tensor pending_keys_;  // the last loss()'s keys, enqueued by after_step
};

MethodEntry moco_entry();  // "moco"

}  // namespace bt::methods
