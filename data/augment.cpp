#include "data/augment.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace bt::data {

namespace {

ViewPipeline base_view(int size, bool cifar) {
  ViewPipeline v;
  v.size = size;
  v.mean = cifar ? kCifar10Mean : kImageNetMean;
  v.std = cifar ? kCifar10Std : kImageNetStd;
  return v;
}

// torchvision ColorJitter.forward: fn_idx = randperm(4), then the four factors drawn in the
// order brightness, contrast, saturation, hue (a component set to 0 draws nothing), then the
// adjustments applied in fn_idx order.
void color_jitter(const ViewPipeline& v, FloatImage& img, Rng& rng) {
  int order[4] = {0, 1, 2, 3};
  for (int i = 3; i > 0; --i) std::swap(order[i], order[rng.randint(0, i + 1)]);
  const auto factor = [&rng](float x) {
    return x > 0 ? float(rng.uniform(std::max(0.0f, 1 - x), 1 + x)) : 1.0f;
  };
  const float b = factor(v.brightness), c = factor(v.contrast), s = factor(v.saturation);
  const float h = v.hue > 0 ? float(rng.uniform(-v.hue, v.hue)) : 0.0f;
  for (int fn : order) {
    if (fn == 0 && v.brightness > 0) adjust_brightness(img, b);
    if (fn == 1 && v.contrast > 0) adjust_contrast(img, c);
    if (fn == 2 && v.saturation > 0) adjust_saturation(img, s);
    if (fn == 3 && v.hue > 0) adjust_hue(img, h);
  }
}

// Python's round(): half to even (the default floating-point rounding mode).
int round_half_even(double x) { return int(std::nearbyint(x)); }

}  // namespace

int blur_kernel_for(int size) {
  const int k = std::max(3, size / 10);
  return k % 2 == 1 ? k : k + 1;
}

ViewPair asymmetric_views(int size, bool cifar) {
  ViewPair p{base_view(size, cifar), base_view(size, cifar)};
  p.first.blur_p = cifar ? 0.0f : 1.0f;
  p.second.blur_p = cifar ? 0.0f : 0.1f;
  p.second.solarize_p = 0.2f;
  return p;
}

ViewPair symmetric_views(int size, bool cifar) {
  ViewPipeline v = base_view(size, cifar);
  v.brightness = v.contrast = v.saturation = 0.8f;
  v.hue = 0.2f;
  v.blur_p = cifar ? 0.0f : 0.5f;
  return {v, v};
}

ViewPair simsiam_views(int size, bool cifar) {
  ViewPipeline v = base_view(size, cifar);
  v.scale_min = 0.2f;
  v.saturation = 0.4f;
  v.blur_p = cifar ? 0.0f : 0.5f;
  return {v, v};
}

ViewPair views_named(const std::string& name, int size, bool cifar, const std::string& flag) {
  if (name == "asymmetric") return asymmetric_views(size, cifar);
  if (name == "symmetric") return symmetric_views(size, cifar);
  if (name == "simsiam") return simsiam_views(size, cifar);
  throw Error(flag + ": unknown views '" + name + "' (expected asymmetric, symmetric or simsiam)");
}

CropBox random_resized_crop_params(int height, int width, float scale_min, float scale_max,
                                   float ratio_min, float ratio_max, Rng& rng) {
  const double area = double(height) * width;
  const double log_lo = std::log(ratio_min), log_hi = std::log(ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(scale_min, scale_max);
    const double aspect = std::exp(rng.uniform(log_lo, log_hi));
    const int w = round_half_even(std::sqrt(target * aspect));
    const int h = round_half_even(std::sqrt(target / aspect));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const int top = int(rng.randint(0, height - h + 1));
      const int left = int(rng.randint(0, width - w + 1));
      return {top, left, h, w};
    }
  }
  const double in_ratio = double(width) / height;  // fallback: centre crop
  int w = width, h = height;
  if (in_ratio < ratio_min) {
    h = round_half_even(w / double(ratio_min));
  } else if (in_ratio > ratio_max) {
    w = round_half_even(h * double(ratio_max));
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

FloatImage augment(const ViewPipeline& v, const FloatImage& src, Rng& rng) {
  const CropBox box = random_resized_crop_params(src.h, src.w, v.scale_min, v.scale_max,
                                                 v.ratio_min, v.ratio_max, rng);
  FloatImage img = resized_crop(src, box.top, box.left, box.height, box.width, v.size, v.size);
  if (rng.uniform() < v.flip_p) hflip(img);
  if (rng.uniform() < v.jitter_p) color_jitter(v, img, rng);  // RandomApply: skip if p < u
  if (rng.uniform() < v.grayscale_p) to_grayscale(img);
  if (rng.uniform() < v.blur_p) {
    const float sigma = float(rng.uniform(v.blur_sigma_min, v.blur_sigma_max));
    gaussian_blur(img, v.blur_kernel > 0 ? v.blur_kernel : blur_kernel_for(v.size), sigma);
  }
  if (rng.uniform() < v.solarize_p) solarize(img, v.solarize_threshold);
  normalize(img, v.mean, v.std);
  return img;
}

FloatImage eval_view(const EvalTransform& t, const FloatImage& src) {
  FloatImage img = center_crop(
      resize_shorter_side(src, int(std::lround(t.size * double(t.resize_ratio)))), t.size, t.size);
  normalize(img, t.mean, t.std);
  return img;
}

}  // namespace bt::data
