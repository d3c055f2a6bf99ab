#include "engine/rng.h"

#include <cmath>
#include <vector>

namespace bt {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

void Rng::seed_(uint64_t seed) {
  for (auto& w : s_) w = splitmix64(seed);
}

uint64_t Rng::next_u64() {  // xoshiro256** (Blackman & Vigna)
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

double Rng::normal(double mean, double stddev) {  // Box–Muller
  const double u1 = 1.0 - uniform(), u2 = uniform();
  return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

int64_t Rng::randint(int64_t lo, int64_t hi) {
  BT_CHECK(hi > lo, "randint: empty range [", lo, ", ", hi, ")");
  return lo + int64_t(next_u64() % uint64_t(hi - lo));
}

Rng Rng::fork(uint64_t key) const {
  uint64_t mix = s_[0] ^ rotl(s_[1], 17) ^ rotl(s_[2], 31) ^ rotl(s_[3], 47);
  mix ^= splitmix64(key);
  return Rng(mix);
}

namespace {
void fill_with(const Tensor& t, const std::vector<double>& v) {
  t.copy_(Tensor::from_vector(v, t.shape(), DType::f64));
}
}  // namespace

void normal_(const Tensor& t, Rng& rng, double mean, double stddev) {
  std::vector<double> v(t.numel());
  for (double& x : v) x = rng.normal(mean, stddev);
  fill_with(t, v);
}

void uniform_(const Tensor& t, Rng& rng, double lo, double hi) {
  std::vector<double> v(t.numel());
  for (double& x : v) x = rng.uniform(lo, hi);
  fill_with(t, v);
}

Tensor randn(const Shape& shape, Rng& rng, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  normal_(t, rng, 0, 1);
  return t;
}

Tensor rand(const Shape& shape, Rng& rng, double lo, double hi, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  uniform_(t, rng, lo, hi);
  return t;
}

namespace {
int64_t receptive_field(const Tensor& w) {
  BT_CHECK(w.dim() >= 2, "fan of a weight needs at least 2 dimensions, got ", shape_str(w.shape()));
  int64_t r = 1;
  for (int64_t d = 2; d < w.dim(); ++d) r *= w.size(d);
  return r;
}
}  // namespace

int64_t fan_in(const Tensor& w) { return w.size(1) * receptive_field(w); }
int64_t fan_out(const Tensor& w) { return w.size(0) * receptive_field(w); }

void kaiming_normal_fan_out_(const Tensor& w, Rng& rng) {
  normal_(w, rng, 0, std::sqrt(2.0 / double(fan_out(w))));
}

void linear_default_init_(const Tensor& w, const Tensor& b, Rng& rng) {
  // kaiming_uniform_(a=√5) gives bound = √(6 / ((1 + 5) fan_in)) = 1/√fan_in.
  const double bound = 1.0 / std::sqrt(double(fan_in(w)));
  uniform_(w, rng, -bound, bound);
  if (b.defined()) uniform_(b, rng, -bound, bound);
}

}  // namespace bt
