#pragma once
// Deterministic image transforms on float CHW images in [0, 1], following
// torchvision.transforms.functional on tensors (formulas cited at each definition). The
// random choices (crop box, factors, coin flips) live in data/augment.h.
#include <array>
#include <cstdint>
#include <vector>

#include "data/image.h"

namespace bt::data {

struct FloatImage {
  static constexpr int kChannels = 3;
  int h = 0, w = 0;
  std::vector<float> data;  // (3, h, w)

  FloatImage() = default;
  FloatImage(int height, int width) : h(height), w(width), data(size_t(kChannels) * height * width) {}
  size_t plane_size() const { return size_t(h) * w; }
  float* plane(int c) { return data.data() + c * plane_size(); }
  const float* plane(int c) const { return data.data() + c * plane_size(); }
  float at(int c, int y, int x) const { return data[c * plane_size() + size_t(y) * w + x]; }
};

// HWC uint8 → CHW float, x / 255 (torchvision ToTensor / convert_image_dtype).
FloatImage to_float(const Image& img);

// Crops rows [top, top+height) × columns [left, left+width) (inside the image) and resizes the
// crop to out_h × out_w with a separable triangle (bilinear) filter whose support widens with
// the scale factor: torch's interpolate(mode="bilinear", align_corners=False, antialias=True),
// i.e. PIL's BILINEAR. Upsampling (and equal size) is exactly align_corners=False bilinear:
// source coordinate (i + 0.5)·in/out − 0.5, clamped at the borders. Downsampling by s > 1
// averages over a triangle of half-width s input pixels instead of sampling 2×2 neighbours,
// so it does not alias.
FloatImage resized_crop(const FloatImage& img, int top, int left, int height, int width,
                        int out_h, int out_w);
FloatImage resize(const FloatImage& img, int out_h, int out_w);

// torchvision Resize(size) with an int: the shorter side becomes `shorter`, the longer
// int(shorter · long / short); unchanged if the shorter side already has that length.
FloatImage resize_shorter_side(const FloatImage& img, int shorter);

// torchvision center_crop: top = round((h − out_h) / 2), left likewise; the crop must fit.
FloatImage center_crop(const FloatImage& img, int out_h, int out_w);

void hflip(FloatImage& img);

// Luma of ITU-R 601-2 as PIL's convert("L"): 0.299 R + 0.587 G + 0.114 B (torchvision's tensor
// path uses 0.2989 for R). Replicated to three channels.
void to_grayscale(FloatImage& img);

// ColorJitter's adjustments; _blend(a, b, f) = clamp(f·a + (1 − f)·b, 0, 1).
void adjust_brightness(FloatImage& img, float factor);  // blend with black
void adjust_contrast(FloatImage& img, float factor);    // blend with the mean of the grayscale
void adjust_saturation(FloatImage& img, float factor);  // blend with the grayscale
// RGB → HSV, h ← (h + hue_factor) mod 1, HSV → RGB (torchvision _rgb2hsv / _hsv2rgb);
// hue_factor in [−0.5, 0.5].
void adjust_hue(FloatImage& img, float hue_factor);

// torchvision gaussian_blur: 1-D kernel exp(−x²/(2σ²)) at x = −(k−1)/2 … (k−1)/2, normalised,
// applied along rows then columns with reflect padding (edge pixel not repeated). k odd.
void gaussian_blur(FloatImage& img, int kernel_size, float sigma);

// torchvision solarize: x ≥ threshold → 1 − x.
void solarize(FloatImage& img, float threshold);

// (x − mean[c]) / std[c].
void normalize(FloatImage& img, const std::array<float, 3>& mean, const std::array<float, 3>& std);

}  // namespace bt::data
