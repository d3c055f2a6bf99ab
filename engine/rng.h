#pragma once
// Seeded random numbers: xoshiro256** (small state, easy to checkpoint) and tensor fills,
// including torchvision's initialisations.
#include <array>
#include <cstdint>

#include "engine/tensor.h"

namespace bt {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { seed_(seed); }
  void seed_(uint64_t seed);
  uint64_t next_u64();
  double uniform();                        // [0, 1)
  double uniform(double lo, double hi);    // [lo, hi)
  double normal(double mean = 0, double stddev = 1);
  int64_t randint(int64_t lo, int64_t hi);  // [lo, hi)
  // A child generator whose stream is a pure function of (this state, key): used to give
  // each (epoch, sample) its own stream whatever the thread that draws it.
  Rng fork(uint64_t key) const;

  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_{};
};

Tensor randn(const Shape& shape, Rng& rng, DType dtype = DType::f32);
Tensor rand(const Shape& shape, Rng& rng, double lo = 0, double hi = 1, DType dtype = DType::f32);

// Fills in place (CPU tensors), as torch.nn.init does.
void normal_(const Tensor& t, Rng& rng, double mean, double stddev);
void uniform_(const Tensor& t, Rng& rng, double lo, double hi);
// fan_in / fan_out of a weight (out, in, ...): in·receptive field / out·receptive field.
int64_t fan_in(const Tensor& w);
int64_t fan_out(const Tensor& w);
// kaiming_normal_(mode="fan_out", nonlinearity="relu"): N(0, 2/fan_out). torchvision's conv init.
void kaiming_normal_fan_out_(const Tensor& w, Rng& rng);
// nn.Linear's default: weight and bias ~ U(−1/√fan_in, 1/√fan_in).
void linear_default_init_(const Tensor& w, const Tensor& b, Rng& rng);

}  // namespace bt
