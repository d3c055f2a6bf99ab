#include "models/mlp.h"

#include "engine/nn/batch_norm.h"
#include "engine/nn/linear.h"

namespace bt::models {

std::shared_ptr<nn::Sequential> make_mlp(const MlpSpec& spec, Rng& rng) {
  BT_CHECK(spec.dims.size() >= 2, "an MLP head needs at least input and output sizes");
  for (int64_t d : spec.dims) BT_CHECK(d > 0, "MLP head sizes must be positive, got ", d);
  auto mlp = std::make_shared<nn::Sequential>();
  const size_t layers = spec.dims.size() - 1;
  for (size_t i = 0; i + 1 < layers; ++i) {
    mlp->push_back(std::make_shared<nn::Linear>(spec.dims[i], spec.dims[i + 1], rng, spec.hidden_bias));
    mlp->push_back(std::make_shared<nn::BatchNorm1d>(spec.dims[i + 1]));
    mlp->push_back(std::make_shared<nn::ReLU>());
  }
  mlp->push_back(std::make_shared<nn::Linear>(spec.dims[layers - 1], spec.dims[layers], rng, spec.last_bias));
  if (spec.last_bn) mlp->push_back(std::make_shared<nn::BatchNorm1d>(spec.dims[layers], spec.last_bn_affine));
  return mlp;
}

}  // namespace bt::models
