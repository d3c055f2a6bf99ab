#pragma once
// Random view pipelines (docs/design.md §5): the SSL augmentation recipe as torchvision composes it,
//   RandomResizedCrop → RandomHorizontalFlip → RandomApply(ColorJitter, p) →
//   RandomGrayscale → RandomApply(GaussianBlur, p) → RandomSolarize → Normalize,
// every random choice drawn from the caller's Rng in that order, so a view is a pure function
// of (pipeline, image, Rng state).
#include <array>
#include <string>

#include "data/transforms.h"
#include "engine/rng.h"

namespace bt::data {

inline constexpr std::array<float, 3> kCifar10Mean = {0.4914f, 0.4822f, 0.4465f};
inline constexpr std::array<float, 3> kCifar10Std = {0.2470f, 0.2435f, 0.2616f};
inline constexpr std::array<float, 3> kImageNetMean = {0.485f, 0.456f, 0.406f};
inline constexpr std::array<float, 3> kImageNetStd = {0.229f, 0.224f, 0.225f};

struct ViewPipeline {
  int size = 32;  // output side
  float scale_min = 0.08f, scale_max = 1.0f;          // crop area / image area
  float ratio_min = 3.0f / 4.0f, ratio_max = 4.0f / 3.0f;  // crop width / height
  float flip_p = 0.5f;
  // ColorJitter: brightness, contrast, saturation factors ~ U[max(0, 1 − x), 1 + x],
  // hue ~ U[−x, x]; 0 turns one off. Applied in a random order with probability jitter_p.
  float brightness = 0.4f, contrast = 0.4f, saturation = 0.2f, hue = 0.1f;
  float jitter_p = 0.8f;
  float grayscale_p = 0.2f;
  float blur_p = 0.0f;
  float blur_sigma_min = 0.1f, blur_sigma_max = 2.0f;
  int blur_kernel = 0;  // odd; 0: blur_kernel_for(size)
  float solarize_p = 0.0f;
  float solarize_threshold = 0.5f;
  std::array<float, 3> mean = kCifar10Mean, std = kCifar10Std;
};

struct ViewPair {
  ViewPipeline first, second;
};

// BYOL / Barlow Twins: jitter 0.4/0.4/0.2/0.1 p 0.8, grayscale 0.2; view 1 blur 1.0 solarize
// 0.0, view 2 blur 0.1 solarize 0.2. SimCLR: jitter 0.8/0.8/0.8/0.2 p 0.8,
// grayscale 0.2, blur 0.5 on both views, no solarize. cifar: blur off and CIFAR-10 mean/std
// (else ImageNet mean/std).
// SimSiam (Chen & He 2021, main_simsiam.py): crop scale (0.2, 1), jitter 0.4/0.4/0.4/0.1 p 0.8,
// grayscale 0.2, blur 0.5 on both views (off for cifar), no solarize.
ViewPair asymmetric_views(int size, bool cifar);
ViewPair symmetric_views(int size, bool cifar);
ViewPair simsiam_views(int size, bool cifar);
// "asymmetric", "symmetric" or "simsiam"; throws bt::Error naming `flag` for anything else.
ViewPair views_named(const std::string& name, int size, bool cifar, const std::string& flag);

// An odd kernel of about a tenth of the image side (BYOL: 23 at 224), at least 3.
int blur_kernel_for(int size);

struct CropBox {
  int top, left, height, width;
};

// torchvision RandomResizedCrop.get_params: up to 10 draws of area ~ U(scale)·h·w and
// log(ratio) ~ U(log ratio); w = round(√(area·ratio)), h = round(√(area/ratio)) (half to even);
// the first box that fits is placed uniformly at random. Otherwise the centre crop of the
// image clamped to the ratio range.
CropBox random_resized_crop_params(int height, int width, float scale_min, float scale_max,
                                   float ratio_min, float ratio_max, Rng& rng);

// One augmented, normalised view (3, size, size) of `src`.
FloatImage augment(const ViewPipeline& view, const FloatImage& src, Rng& rng);

// Evaluation view: no randomness. Resize the shorter side to round(size · resize_ratio),
// centre-crop size × size, normalise (torchvision Resize(256) + CenterCrop(224) at ratio
// 256/224; at ratio 1 a size × size image only gets normalised).
struct EvalTransform {
  int size = 32;
  float resize_ratio = 1.0f;
  std::array<float, 3> mean = kCifar10Mean, std = kCifar10Std;
};
FloatImage eval_view(const EvalTransform& t, const FloatImage& src);

}  // namespace bt::data
