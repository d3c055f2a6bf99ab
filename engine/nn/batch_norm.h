#pragma once
// nn.BatchNorm1d / nn.BatchNorm2d with running statistics (track_running_stats=True).
// Parameters: weight (C) = 1, bias (C) = 0 when affine. Buffers: running_mean (C) = 0,
// running_var (C) = 1, num_batches_tracked () = 0.
//
// num_batches_tracked is a float64 scalar holding an integer (exact up to 2^53 steps); the
// engine has no integer dtype. PyTorch stores it as int64: a file written here has it as F64,
// and load_state_dict on either side converts on copy. Like PyTorch with a fixed momentum,
// it is counted but not used by the update.
#include "engine/dist/process_group.h"
#include "engine/nn/module.h"

namespace bt::nn {

class BatchNorm : public Module {
 public:
  // Training: normalise with the batch statistics (biased variance) and update
  //   running = (1 − momentum) running + momentum · batch  (unbiased variance), as PyTorch.
  // Eval: normalise with the running statistics.
  Tensor forward(const Tensor& x) override;
  // relu(forward(x)), fused into one kernel in training.
  Tensor forward_relu(const Tensor& x);
  // SyncBN: in training, statistics over the global batch of `group`'s ranks
  // (engine/dist/sync_batch_norm.h); null (the default) or a world of 1: this rank's batch.
  void set_sync_group(std::shared_ptr<dist::ProcessGroup> group) { sync_group_ = std::move(group); }

  const int64_t num_features;
  const double eps, momentum;
  Tensor weight, bias;                                    // (C) or undefined (affine=false)
  Tensor running_mean, running_var, num_batches_tracked;  // (C), (C), () float64

 protected:
  // input_dim: the rank forward accepts (2 for 1d, 4 for 2d); name: the class, for errors.
  BatchNorm(const char* name, int64_t input_dim, int64_t num_features, bool affine, double eps,
            double momentum, DType dtype);

 private:
  void check_input(const Tensor& x) const;
  void count_batch();  // num_batches_tracked += 1 in training
  bool synced() const { return is_training() && sync_group_ && sync_group_->world_size() > 1; }
  Tensor sync_forward(const Tensor& x);

  std::shared_ptr<dist::ProcessGroup> sync_group_;

  const char* name_;
  int64_t input_dim_;
};

// Input (N, C).
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, bool affine = true, double eps = 1e-5,
                       double momentum = 0.1, DType dtype = DType::f32)
      : BatchNorm("BatchNorm1d", 2, num_features, affine, eps, momentum, dtype) {}
};

// Input (N, C, H, W).
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, bool affine = true, double eps = 1e-5,
                       double momentum = 0.1, DType dtype = DType::f32)
      : BatchNorm("BatchNorm2d", 4, num_features, affine, eps, momentum, dtype) {}
};

// set_sync_group on every BatchNorm in `root`'s tree (null: back to per-rank statistics).
void set_sync_group(Module& root, const std::shared_ptr<dist::ProcessGroup>& group);

}  // namespace bt::nn
