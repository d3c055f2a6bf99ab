#pragma once
// ResNet-18/50 backbones with torchvision's structure, parameter names and initialisation
// (He et al. 2016; torchvision.models.resnet, "ResNet v1.5": the stride of a Bottleneck sits
// on its 3×3 conv). The fc layer is dropped: forward returns the pooled features.
#include <memory>
#include <string>

#include "engine/nn/batch_norm.h"
#include "engine/nn/conv2d.h"
#include "engine/nn/sequential.h"
#include "engine/rng.h"

namespace bt::models {

enum class Stem {
  imagenet,  // conv1 7×7 stride 2 pad 3, then max-pool 3×3 stride 2
  cifar,     // conv1 3×3 stride 1 pad 1, no max-pool (small 32×32 images)
};

struct ResNetConfig {
  std::string arch = "resnet18";  // "resnet18" or "resnet50"
  Stem stem = Stem::cifar;
  int64_t width = 64;  // channels of layer1 (torchvision: 64); planes scale with it
  // Zero the last BN weight of every residual block, so each block starts as the identity
  // (Goyal et al. 2017, torchvision's zero_init_residual).
  bool zero_init_residual = false;
};

// Two 3×3 convs: out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
class BasicBlock : public nn::Module {
 public:
  static constexpr int64_t expansion = 1;
  BasicBlock(int64_t in_planes, int64_t planes, int64_t stride, Rng& rng);
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::Sequential> downsample;  // 1×1 conv + BN, or null
};

// 1×1 reduce, 3×3 (strided), 1×1 expand ×4: out = relu(bn3(conv3(...)) + shortcut(x)).
class Bottleneck : public nn::Module {
 public:
  static constexpr int64_t expansion = 4;
  Bottleneck(int64_t in_planes, int64_t planes, int64_t stride, Rng& rng);
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<nn::Conv2d> conv1, conv2, conv3;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2, bn3;
  std::shared_ptr<nn::Sequential> downsample;
};

class ResNet : public nn::Module {
 public:
  ResNet(const ResNetConfig& config, Rng& rng);
  // x (N, 3, H, W) -> features (N, feature_dim()).
  Tensor forward(const Tensor& x) override;
  int64_t feature_dim() const { return feature_dim_; }
  const ResNetConfig& config() const { return config_; }

 private:
  std::shared_ptr<nn::Sequential> make_layer(int64_t planes, int64_t blocks, int64_t stride, Rng& rng);

  ResNetConfig config_;
  int64_t in_planes_;
  int64_t feature_dim_ = 0;
  std::shared_ptr<nn::Conv2d> conv1_;
  std::shared_ptr<nn::BatchNorm2d> bn1_;
  std::shared_ptr<nn::Sequential> layers_[4];
};

}  // namespace bt::models
