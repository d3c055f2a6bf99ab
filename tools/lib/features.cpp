#include "tools/lib/features.h"

#include <cstring>
#include <memory>

#include "data/loader.h"
#include "engine/autograd.h"

namespace bt::tools {

namespace {

// Puts a module back into the mode it had when this guard was made.
class ModeRestorer {
 public:
  explicit ModeRestorer(nn::Module& m) : module_(m), was_training_(m.is_training()) {}
  ~ModeRestorer() { module_.train(was_training_); }
  ModeRestorer(const ModeRestorer&) = delete;
  ModeRestorer& operator=(const ModeRestorer&) = delete;

 private:
  nn::Module& module_;
  bool was_training_;
};

}  // namespace

Features extract_features(models::ResNet& backbone, const data::Dataset& dataset,
                          const data::EvalTransform& transform, int64_t batch, int threads) {
  BT_CHECK(batch > 0, "extract_features: batch must be positive, got ", batch);
  BT_CHECK(threads > 0, "extract_features: threads must be positive, got ", threads);
  const int64_t n = dataset.size();
  const int64_t f = backbone.feature_dim();
  const auto params = backbone.parameters();
  const Device device = params.empty() ? Device::cpu : params.front().device();

  ModeRestorer restore(backbone);
  backbone.eval();
  NoGradGuard no_grad;

  Features out;
  out.feats = Tensor::empty({n, f});  // (N, F)
  out.labels.resize(size_t(n));
  if (n == 0) return out;

  // The loader wants shared ownership; the caller keeps `dataset` alive for this call, so a
  // non-owning handle (aliasing constructor with an empty owner) is enough.
  std::shared_ptr<const data::Dataset> handle(std::shared_ptr<const data::Dataset>(), &dataset);
  data::EvalLoader loader(handle, transform, batch, threads);
  float* dst = out.feats.data<float>();
  data::EvalBatch b;
  while (loader.next(b)) {
    Tensor y = backbone.forward(b.images.to(device)).to(Device::cpu).contiguous();  // (n_b, F)
    if (y.dtype() != DType::f32) y = y.to(DType::f32);
    const int64_t rows = y.size(0);
    BT_CHECK(y.dim() == 2 && y.size(1) == f, "extract_features: backbone output ",
             shape_str(y.shape()), " is not (batch, ", f, ")");
    for (int64_t k = 0; k < rows; ++k) {
      const int64_t i = b.indices[size_t(k)];
      std::memcpy(dst + i * f, y.data<float>() + k * f, size_t(f) * sizeof(float));
      out.labels[size_t(i)] = b.labels[size_t(k)];
    }
  }
  return out;
}

}  // namespace bt::tools
