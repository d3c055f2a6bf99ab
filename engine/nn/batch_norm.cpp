#include "engine/nn/batch_norm.h"

#include "engine/autograd.h"
#include "engine/dist/sync_batch_norm.h"
#include "engine/ops.h"

namespace bt::nn {

BatchNorm::BatchNorm(const char* name, int64_t input_dim, int64_t num_features_, bool affine,
                     double eps_, double momentum_, DType dtype)
    : num_features(num_features_), eps(eps_), momentum(momentum_), name_(name),
      input_dim_(input_dim) {
  BT_CHECK(num_features > 0, name_, ": num_features must be positive, got ", num_features);
  if (affine) {
    weight = register_parameter("weight", Tensor::ones({num_features}, dtype));
    bias = register_parameter("bias", Tensor::zeros({num_features}, dtype));
  }
  running_mean = register_buffer("running_mean", Tensor::zeros({num_features}, dtype));
  running_var = register_buffer("running_var", Tensor::ones({num_features}, dtype));
  num_batches_tracked = register_buffer("num_batches_tracked", Tensor::zeros({}, DType::f64));
}

void BatchNorm::check_input(const Tensor& x) const {
  BT_CHECK(x.dim() == input_dim_ && x.size(1) == num_features, name_, "(", num_features,
           "): expected input (N, ", num_features, input_dim_ == 4 ? ", H, W)" : ")", ", got ",
           shape_str(x.shape()));
}

// The same path on every device: on simt/cuda a float64 kernel adds on the device, no host read.
void BatchNorm::count_batch() {
  if (!is_training()) return;
  NoGradGuard no_grad;
  num_batches_tracked.copy_(add(num_batches_tracked, 1.0));
}

Tensor BatchNorm::sync_forward(const Tensor& x) {
  Tensor y = dist::sync_batch_norm(x, weight, bias, running_mean, running_var, momentum, eps, *sync_group_);
  count_batch();
  return y;
}

Tensor BatchNorm::forward(const Tensor& x) {
  check_input(x);
  if (synced()) return sync_forward(x);
  Tensor y = batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
  count_batch();
  return y;
}

Tensor BatchNorm::forward_relu(const Tensor& x) {
  check_input(x);
  if (synced()) return relu(sync_forward(x));
  Tensor y = batch_norm_relu(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
  count_batch();
  return y;
}

void set_sync_group(Module& root, const std::shared_ptr<dist::ProcessGroup>& group) {
  if (auto* bn = dynamic_cast<BatchNorm*>(&root)) bn->set_sync_group(group);
  for (const auto& [name, child] : root.named_children()) set_sync_group(*child, group);
}

}  // namespace bt::nn
