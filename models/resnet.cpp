#include "models/resnet.h"

#include "engine/ops.h"

namespace bt::models {

namespace {

// The projection shortcut when the block changes resolution or channels: conv1x1 + BN.
std::shared_ptr<nn::Sequential> make_downsample(int64_t in_planes, int64_t out_planes,
                                                int64_t stride, Rng& rng) {
  if (stride == 1 && in_planes == out_planes) return nullptr;
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Conv2d>(in_planes, out_planes, 1, rng, stride, 0),
      std::make_shared<nn::BatchNorm2d>(out_planes)});
}

Tensor shortcut(const std::shared_ptr<nn::Sequential>& downsample, const Tensor& x) {
  return downsample ? downsample->forward(x) : x;
}

}  // namespace

BasicBlock::BasicBlock(int64_t in_planes, int64_t planes, int64_t stride, Rng& rng) {
  conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(in_planes, planes, 3, rng, stride, 1));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(planes));
  conv2 = register_module("conv2", std::make_shared<nn::Conv2d>(planes, planes, 3, rng, 1, 1));
  bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(planes));
  downsample = make_downsample(in_planes, planes * expansion, stride, rng);
  if (downsample) register_module("downsample", downsample);
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor out = bn1->forward_relu(conv1->forward(x));
  out = bn2->forward(conv2->forward(out));
  return add_relu(out, shortcut(downsample, x));
}

Bottleneck::Bottleneck(int64_t in_planes, int64_t planes, int64_t stride, Rng& rng) {
  conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(in_planes, planes, 1, rng));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(planes));
  conv2 = register_module("conv2", std::make_shared<nn::Conv2d>(planes, planes, 3, rng, stride, 1));
  bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(planes));
  conv3 = register_module("conv3", std::make_shared<nn::Conv2d>(planes, planes * expansion, 1, rng));
  bn3 = register_module("bn3", std::make_shared<nn::BatchNorm2d>(planes * expansion));
  downsample = make_downsample(in_planes, planes * expansion, stride, rng);
  if (downsample) register_module("downsample", downsample);
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor out = bn1->forward_relu(conv1->forward(x));
  out = bn2->forward_relu(conv2->forward(out));
  out = bn3->forward(conv3->forward(out));
  return add_relu(out, shortcut(downsample, x));
}

ResNet::ResNet(const ResNetConfig& config, Rng& rng) : config_(config), in_planes_(config.width) {
  const bool basic = config.arch == "resnet18";
  BT_CHECK(basic || config.arch == "resnet50", "unknown arch '", config.arch,
           "': expected resnet18 or resnet50");
  BT_CHECK(config.width > 0, "ResNet width must be positive, got ", config.width);
  const int64_t w = config.width;
  if (config.stem == Stem::imagenet)
    conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(3, w, 7, rng, 2, 3));
  else
    conv1_ = register_module("conv1", std::make_shared<nn::Conv2d>(3, w, 3, rng, 1, 1));
  bn1_ = register_module("bn1", std::make_shared<nn::BatchNorm2d>(w));
  const int64_t blocks18[4] = {2, 2, 2, 2}, blocks50[4] = {3, 4, 6, 3};
  for (int i = 0; i < 4; ++i) {
    const int64_t planes = w << i;
    layers_[i] = make_layer(planes, basic ? blocks18[i] : blocks50[i], i == 0 ? 1 : 2, rng);
    register_module("layer" + std::to_string(i + 1), layers_[i]);
  }
  feature_dim_ = in_planes_;
  if (config.zero_init_residual) {
    for (auto& [name, p] : named_parameters()) {
      const bool last_bn = name.find(basic ? ".bn2.weight" : ".bn3.weight") != std::string::npos;
      if (last_bn) p.fill_(0);
    }
  }
}

std::shared_ptr<nn::Sequential> ResNet::make_layer(int64_t planes, int64_t blocks, int64_t stride, Rng& rng) {
  auto layer = std::make_shared<nn::Sequential>();
  const bool basic = config_.arch == "resnet18";
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t s = b == 0 ? stride : 1;
    if (basic) layer->push_back(std::make_shared<BasicBlock>(in_planes_, planes, s, rng));
    else layer->push_back(std::make_shared<Bottleneck>(in_planes_, planes, s, rng));
    in_planes_ = planes * (basic ? BasicBlock::expansion : Bottleneck::expansion);
  }
  return layer;
}

Tensor ResNet::forward(const Tensor& x) {
  BT_CHECK(x.dim() == 4 && x.size(1) == 3, "ResNet: expected images (N, 3, H, W), got ",
           shape_str(x.shape()));
  Tensor y = bn1_->forward_relu(conv1_->forward(x));
  if (config_.stem == Stem::imagenet) y = max_pool2d(y, 3, 2, 1);
  for (auto& layer : layers_) y = layer->forward(y);
  return global_avg_pool2d(y);
}

}  // namespace bt::models
