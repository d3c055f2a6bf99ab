#pragma once
// The projector / predictor heads of the SSL methods: Linear → BN → ReLU repeated, then a
// final Linear (optionally followed by a BN). Children are named like the PyTorch
// nn.Sequential these heads are in the reference code ("0", "1", ...).
#include <vector>

#include "engine/nn/sequential.h"
#include "engine/rng.h"

namespace bt::models {

struct MlpSpec {
  std::vector<int64_t> dims;       // in, hidden..., out (at least in and out)
  bool hidden_bias = false;        // bias of the hidden Linears (Barlow Twins: false)
  bool last_bias = false;          // bias of the final Linear
  bool last_bn = false;            // a BatchNorm1d after the final Linear (SimSiam's projector)
  bool last_bn_affine = true;      // SimSiam's last BN has no affine parameters
};

// Builds the Sequential: Linear, BatchNorm1d, ReLU for each hidden layer, then Linear [, BN].
std::shared_ptr<nn::Sequential> make_mlp(const MlpSpec& spec, Rng& rng);

}  // namespace bt::models
