// Transforms and view pipelines against hand-derived values: flip, ColorJitter's formulas,
// grayscale weights, solarize, normalize, bilinear resize (align_corners=False and the
// antialiased downsampling), RandomResizedCrop's parameters, Gaussian blur with reflect padding.
#include <catch2/catch.hpp>

#include <cmath>

#include "data/augment.h"

using namespace bt;
using namespace bt::data;

namespace {

// A (3, h, w) image with value (c·h·w + y·w + x) / (3·h·w) at channel c, row y, column x.
FloatImage ramp(int h, int w) {
  FloatImage img(h, w);
  for (size_t i = 0; i < img.data.size(); ++i) img.data[i] = float(i) / img.data.size();
  return img;
}

// A colourful image in [0, 1]: smooth, with every channel different.
FloatImage colourful(int h, int w) {
  FloatImage img(h, w);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        img.plane(c)[y * w + x] = 0.5f + 0.45f * std::sin(0.7f * x + 1.3f * y + 2.1f * c);
  return img;
}

void require_close(const FloatImage& a, const FloatImage& b, float tol) {
  REQUIRE(a.h == b.h);
  REQUIRE(a.w == b.w);
  for (size_t i = 0; i < a.data.size(); ++i) {
    INFO("element " << i);
    REQUIRE(std::abs(a.data[i] - b.data[i]) <= tol);
  }
}

// Every pipeline step off: only the crop/resize and an identity normalize remain.
ViewPipeline plain(int size) {
  ViewPipeline v;
  v.size = size;
  v.flip_p = v.jitter_p = v.grayscale_p = v.blur_p = v.solarize_p = 0;
  v.mean = {0, 0, 0};
  v.std = {1, 1, 1};
  return v;
}

}  // namespace

TEST_CASE("to_float: HWC bytes to CHW floats / 255") {
  Image img;
  img.w = 2;
  img.h = 1;
  img.pixels = {255, 0, 51, 102, 153, 204};  // (r,g,b) at x=0, x=1
  FloatImage f = to_float(img);
  REQUIRE(f.data == std::vector<float>{1.0f, 0.4f, 0.0f, 0.6f, 0.2f, 0.8f});
}

TEST_CASE("horizontal flip reverses every row") {
  FloatImage img = ramp(2, 3), f = img;
  hflip(f);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x) REQUIRE(f.at(c, y, x) == img.at(c, y, 2 - x));
}

TEST_CASE("brightness: factor 1 is the identity, 0 is black, 2 saturates at 1") {
  FloatImage img = colourful(5, 6), a = img, b = img, c = img;
  adjust_brightness(a, 1.0f);
  REQUIRE(a.data == img.data);
  adjust_brightness(b, 0.0f);
  for (float v : b.data) REQUIRE(v == 0.0f);
  adjust_brightness(c, 2.0f);
  for (size_t i = 0; i < img.data.size(); ++i) REQUIRE(c.data[i] == std::min(1.0f, 2 * img.data[i]));
}

TEST_CASE("saturation 0 and grayscale use 0.299 R + 0.587 G + 0.114 B") {
  FloatImage img = colourful(4, 4), s = img, g = img, one = img;
  adjust_saturation(s, 0.0f);
  to_grayscale(g);
  adjust_saturation(one, 1.0f);
  require_close(one, img, 1e-7f);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      const float l = 0.299f * img.at(0, y, x) + 0.587f * img.at(1, y, x) + 0.114f * img.at(2, y, x);
      for (int c = 0; c < 3; ++c) {
        REQUIRE(s.at(c, y, x) == Approx(l).margin(1e-6));
        REQUIRE(g.at(c, y, x) == Approx(l).margin(1e-6));
      }
    }
}

TEST_CASE("contrast blends with the mean of the grayscale image") {
  FloatImage img = colourful(3, 5), half = img, zero = img;
  double mean = 0;
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x)
      mean += 0.299 * img.at(0, y, x) + 0.587 * img.at(1, y, x) + 0.114 * img.at(2, y, x);
  mean /= 15;
  adjust_contrast(zero, 0.0f);
  for (float v : zero.data) REQUIRE(v == Approx(mean).margin(1e-6));
  adjust_contrast(half, 0.5f);
  for (size_t i = 0; i < img.data.size(); ++i)
    REQUIRE(half.data[i] == Approx(0.5 * img.data[i] + 0.5 * mean).margin(1e-6));
}

TEST_CASE("hue: shift 0 is the identity, 0.5 twice comes back, 1/3 turns red to green") {
  FloatImage img = colourful(6, 7), zero = img, twice = img;
  adjust_hue(zero, 0.0f);
  require_close(zero, img, 1e-6f);
  adjust_hue(twice, 0.5f);
  bool changed = false;
  for (size_t i = 0; i < img.data.size(); ++i) changed |= std::abs(twice.data[i] - img.data[i]) > 0.05f;
  REQUIRE(changed);
  adjust_hue(twice, 0.5f);
  require_close(twice, img, 1e-5f);

  FloatImage red(1, 2);
  red.data = {0.8f, 0.5f, 0.2f, 0.2f, 0.2f, 0.5f};  // (0.8, 0.2, 0.2) and (0.5, 0.2, 0.5)
  adjust_hue(red, 1.0f / 3.0f);  // red (h 0) → green (h 1/3); magenta (h 5/6) → yellow (h 1/6)
  const std::vector<float> want = {0.2f, 0.5f, 0.8f, 0.5f, 0.2f, 0.2f};
  for (size_t i = 0; i < want.size(); ++i) REQUIRE(red.data[i] == Approx(want[i]).margin(1e-6));
  REQUIRE_THROWS_WITH(adjust_hue(red, 0.7f), Catch::Contains("[-0.5, 0.5]"));
}

TEST_CASE("solarize inverts values at or above the threshold; normalize") {
  FloatImage img(1, 2);
  img.data = {0.2f, 0.5f, 0.7f, 1.0f, 0.0f, 0.49f};
  solarize(img, 0.5f);
  const std::vector<float> want = {0.2f, 0.5f, 0.3f, 0.0f, 0.0f, 0.49f};
  for (size_t i = 0; i < want.size(); ++i) REQUIRE(img.data[i] == Approx(want[i]));
  normalize(img, {0.1f, 0.2f, 0.3f}, {0.5f, 2.0f, 0.25f});
  const std::vector<float> norm = {0.2f, 0.8f, 0.05f, -0.1f, -1.2f, 0.76f};
  for (size_t i = 0; i < norm.size(); ++i) REQUIRE(img.data[i] == Approx(norm[i]).margin(1e-6));
}

TEST_CASE("bilinear resize, align_corners=False: 2x2 to 4x4 by hand") {
  // Per axis, output i samples source (i + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25, clamped to
  // [0, 1]: weights (1, 0), (0.75, 0.25), (0.25, 0.75), (0, 1).
  FloatImage img(2, 2);
  for (int c = 0; c < 3; ++c) {
    img.plane(c)[0] = 0 + c, img.plane(c)[1] = 1 + c;
    img.plane(c)[2] = 2 + c, img.plane(c)[3] = 3 + c;
  }
  const float want[4][4] = {{0, 0.25f, 0.75f, 1},
                            {0.5f, 0.75f, 1.25f, 1.5f},
                            {1.5f, 1.75f, 2.25f, 2.5f},
                            {2, 2.25f, 2.75f, 3}};
  FloatImage out = resize(img, 4, 4);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) REQUIRE(out.at(c, y, x) == Approx(want[y][x] + c).margin(1e-6));
  require_close(resize(img, 2, 2), img, 0);  // same size: identity
}

TEST_CASE("downsampling is antialiased: a triangle filter as wide as the scale") {
  // 4 → 2 (scale 2): output 0 is centred at 1.0 with support 2, inputs 0, 1, 2 weighted
  // tri((j − 0.5)/2) = 0.75, 0.75, 0.25 (normalised by 1.75); output 1 mirrors it.
  FloatImage img(1, 4);
  for (int c = 0; c < 3; ++c)
    for (int x = 0; x < 4; ++x) img.plane(c)[x] = float(x);
  FloatImage out = resize(img, 1, 2);
  REQUIRE(out.at(0, 0, 0) == Approx(1.25 / 1.75));
  REQUIRE(out.at(0, 0, 1) == Approx(3 - 1.25 / 1.75));
  FloatImage flat(9, 9);
  std::fill(flat.data.begin(), flat.data.end(), 0.3f);
  for (float v : resize(flat, 4, 3).data) REQUIRE(v == Approx(0.3f));
}

TEST_CASE("RandomResizedCrop parameters: full-scale square crop, fallback, ranges") {
  Rng rng(1);
  const CropBox full = random_resized_crop_params(20, 20, 1, 1, 1, 1, rng);
  REQUIRE((full.top == 0 && full.left == 0 && full.height == 20 && full.width == 20));
  // scale (1,1) ratio (1,1) on a square image through the pipeline: an identity resize.
  FloatImage img = colourful(20, 20);
  ViewPipeline v = plain(20);
  v.scale_min = v.ratio_min = v.ratio_max = 1;
  require_close(augment(v, img, rng), img, 1e-6f);
  v.size = 8;
  require_close(augment(v, img, rng), resize(img, 8, 8), 0);

  // A 20×30 image cannot hold a 1:1 box of its whole area (24×24): 10 misses, then the centre
  // crop clamped to the ratio, 20×20 at left 5.
  const CropBox fb = random_resized_crop_params(20, 30, 1, 1, 1, 1, rng);
  REQUIRE((fb.top == 0 && fb.left == 5 && fb.height == 20 && fb.width == 20));

  for (int i = 0; i < 2000; ++i) {
    const CropBox b = random_resized_crop_params(32, 48, 0.08f, 1, 3.0f / 4, 4.0f / 3, rng);
    REQUIRE(b.top >= 0);
    REQUIRE(b.left >= 0);
    REQUIRE(b.top + b.height <= 32);
    REQUIRE(b.left + b.width <= 48);
    const double area = double(b.height) * b.width / (32.0 * 48.0);
    REQUIRE(area > 0.05);  // 0.08 up to rounding of the sides
  }
}

TEST_CASE("Gaussian blur: kernel values, reflect padding at the border, constants kept") {
  // k = 3, σ = 1: exp(−x²/2) at −1, 0, 1 → (0.60653, 1, 0.60653) / 2.21306.
  const double k0 = std::exp(-0.5) / (1 + 2 * std::exp(-0.5)), k1 = 1 / (1 + 2 * std::exp(-0.5));
  FloatImage img(5, 5);
  img.plane(0)[0] = 1;             // impulse in the corner: reflect pads with pixel 1, not 0
  img.plane(1)[2 * 5 + 2] = 1;     // impulse in the middle: the 2-D kernel k kᵀ
  gaussian_blur(img, 3, 1.0f);
  REQUIRE(img.at(0, 0, 0) == Approx(k1 * k1));
  REQUIRE(img.at(0, 0, 1) == Approx(k0 * k1));
  REQUIRE(img.at(0, 1, 1) == Approx(k0 * k0));
  REQUIRE(img.at(0, 2, 2) == Approx(0).margin(1e-7));
  REQUIRE(img.at(1, 2, 2) == Approx(k1 * k1));
  REQUIRE(img.at(1, 1, 3) == Approx(k0 * k0));
  double sum = 0;
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 5; ++x) sum += img.at(1, y, x);
  REQUIRE(sum == Approx(1));
  FloatImage flat(4, 6);
  std::fill(flat.data.begin(), flat.data.end(), 0.7f);
  gaussian_blur(flat, 9, 2.0f);  // kernel wider than the image: reflection bounces
  for (float v : flat.data) REQUIRE(v == Approx(0.7f));
  REQUIRE_THROWS_WITH(gaussian_blur(flat, 4, 1.0f), Catch::Contains("odd"));
  REQUIRE(blur_kernel_for(224) == 23);
  REQUIRE(blur_kernel_for(32) == 3);
}

TEST_CASE("view presets and eval view") {
  const ViewPair asym = asymmetric_views(224, false), sym = symmetric_views(32, true);
  REQUIRE(asym.first.blur_p == 1.0f);
  REQUIRE(asym.second.blur_p == 0.1f);
  REQUIRE(asym.first.solarize_p == 0.0f);
  REQUIRE(asym.second.solarize_p == 0.2f);
  REQUIRE(asym.first.brightness == 0.4f);
  REQUIRE(asym.first.saturation == 0.2f);
  REQUIRE(asym.first.hue == 0.1f);
  REQUIRE(asym.first.mean == kImageNetMean);
  REQUIRE(asymmetric_views(32, true).first.blur_p == 0.0f);
  REQUIRE(sym.first.brightness == 0.8f);
  REQUIRE(sym.second.hue == 0.2f);
  REQUIRE(sym.first.blur_p == 0.0f);
  REQUIRE(sym.first.mean == kCifar10Mean);
  REQUIRE(symmetric_views(224, false).second.blur_p == 0.5f);
  // SimSiam's main_simsiam.py: RandomResizedCrop scale (0.2, 1), ColorJitter(0.4, 0.4, 0.4, 0.1).
  const ViewPair siam = simsiam_views(224, false);
  REQUIRE(siam.first.scale_min == 0.2f);
  REQUIRE(siam.second.saturation == 0.4f);
  REQUIRE(siam.second.hue == 0.1f);
  REQUIRE(siam.first.blur_p == 0.5f);
  REQUIRE(siam.second.solarize_p == 0.0f);
  REQUIRE(simsiam_views(32, true).first.blur_p == 0.0f);
  REQUIRE(views_named("simsiam", 32, true, "--views").first.scale_min == 0.2f);
  REQUIRE(views_named("symmetric", 32, true, "--views").first.brightness == 0.8f);
  REQUIRE_THROWS_WITH(views_named("strong", 32, true, "--views"), Catch::Contains("--views") && Catch::Contains("strong"));

  FloatImage img = colourful(32, 32);
  EvalTransform t;  // CIFAR: normalise only
  FloatImage e = eval_view(t, img);
  for (int c = 0; c < 3; ++c)
    REQUIRE(e.at(c, 5, 7) == Approx((img.at(c, 5, 7) - kCifar10Mean[c]) / kCifar10Std[c]));
  // 48×64 → shorter side 32 → 32×42 (int(64·32/48)) → centre 32×32 from column 5.
  FloatImage wide = colourful(48, 64);
  t.mean = {0, 0, 0};
  t.std = {1, 1, 1};
  FloatImage w = eval_view(t, wide), r = resize(wide, 32, 42);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) REQUIRE(w.at(c, y, x) == r.at(c, y, x + 5));
}

TEST_CASE("augment: a pure function of the Rng state; views differ across streams") {
  FloatImage img = colourful(32, 32);
  const ViewPair views = asymmetric_views(32, false);  // every step active, blur included
  Rng a(5), b(5), c(6);
  FloatImage va = augment(views.second, img, a), vb = augment(views.second, img, b),
             vc = augment(views.second, img, c);
  REQUIRE(va.h == 32);
  REQUIRE(va.data == vb.data);
  REQUIRE(va.data != vc.data);
  // Jitter with every factor 0 draws its order only and changes nothing.
  ViewPipeline v = plain(32);
  v.scale_min = v.ratio_min = v.ratio_max = 1;
  v.jitter_p = 1;
  v.brightness = v.contrast = v.saturation = v.hue = 0;
  require_close(augment(v, img, a), img, 1e-6f);
}
