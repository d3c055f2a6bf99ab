#pragma once
// An SSL method: an encoder (ResNet backbone) plus its heads and loss. Two augmented views go
// in, a scalar loss comes out; after each optimizer step the method may update state that is
// not trained by gradients (BYOL's EMA target).
#include <memory>
#include <optional>
#include <string>

#include "engine/dist/process_group.h"
#include "engine/nn/module.h"
#include "models/resnet.h"

namespace bt::methods {

struct MethodConfig {
  std::string method = "barlow";  // a name in methods/registry.h
  models::ResNetConfig backbone;
  // Head sizes; 0 picks the method's default from docs/design.md §5 (scaled by `head_scale`).
  int64_t proj_hidden = 0, proj_out = 0, pred_hidden = 0;
  double head_scale = 1.0;          // multiplies the default head widths (narrow CPU runs)
  double bt_lambda = 0.0051;        // Barlow Twins off-diagonal weight λ
  bool bt_lambda_auto = false;      // Barlow Twins λ = 1/(D−1) instead of bt_lambda
  // Contrastive temperature τ; unset: the method's (SimCLR 0.5 as on CIFAR, MoCo 0.2).
  std::optional<double> temperature;
  double byol_tau_base = 0.99;      // BYOL EMA momentum at step 0 (→ 1 by a cosine)
  // MoCo (methods/moco/moco.h); unset: MocoOptions' defaults.
  std::optional<int64_t> moco_queue_size;
  std::optional<double> moco_momentum;
  std::optional<bool> moco_symmetric;
};

class Method : public nn::Module {
 public:
  // Loss of a pair of views (N, 3, H, W).
  virtual Tensor loss(const Tensor& view1, const Tensor& view2) = 0;
  // Called after every optimizer step with the step index k (1-based) and the total K.
  virtual void after_step(int64_t /*step*/, int64_t /*total_steps*/) {}
  // The parameters the optimizer trains (BYOL's target network is not among them).
  virtual nn::NamedTensors trainable_parameters() const { return named_parameters(); }
  virtual std::string name() const = 0;

  // Data parallelism (docs/distributed.md): the losses that need the global batch use
  // `group` (Barlow Twins' C, SimCLR's negatives), and the BatchNorms of the heads become
  // SyncBN; with sync_backbone_bn, the backbones' too. The default is a local world of 1.
  void set_process_group(std::shared_ptr<dist::ProcessGroup> group, bool sync_backbone_bn);
  dist::ProcessGroup& process_group() const { return *group_; }

  models::ResNet& backbone() { return *backbone_; }
  const models::ResNet& backbone() const { return *backbone_; }
  // The embeddings of the last loss() call's first and second view (detached), for the
  // collapse metrics and the Barlow Twins heatmap.
  const Tensor& last_z1() const { return last_z1_; }
  const Tensor& last_z2() const { return last_z2_; }

 protected:
  Method(const MethodConfig& config, Rng& rng);
  void keep_embeddings(const Tensor& z1, const Tensor& z2);
  // head(backbone(view)) of both views, kept as the last embeddings.
  struct Embeddings {
    Tensor z1, z2;
  };
  Embeddings embed_views(nn::Module& head, const Tensor& view1, const Tensor& view2);

  MethodConfig config_;
  std::shared_ptr<models::ResNet> backbone_;
  std::shared_ptr<dist::ProcessGroup> group_;

 private:
  Tensor last_z1_, last_z2_;
};

// Builds the method named by config.method (methods/registry.h); an unknown name is an error
// naming it.
std::unique_ptr<Method> make_method(const MethodConfig& config, Rng& rng);

// Head widths scaled for narrow runs: round(d · scale), at least 8.
int64_t scaled_width(int64_t d, double scale);

}  // namespace bt::methods
