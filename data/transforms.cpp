#include "data/transforms.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace bt::data {

namespace {

constexpr int C = FloatImage::kChannels;

// Per output pixel: the first input index, the number of taps and their weights (normalised).
// torch's _upsample_bilinear2d_aa (HelperInterpLinear::compute_indices_weights_aa) = PIL's
// ImagingResample: scale = in/out; support = scale (≥ 1) or 1; center = scale·(i + 0.5);
// xmin = max(int(center − support + 0.5), 0); xmax = min(int(center + support + 0.5), in);
// w_j = tri((j + xmin − center + 0.5) / max(scale, 1)), tri(x) = max(0, 1 − |x|).
struct Taps {
  int count = 0;  // taps per output (the maximum; unused ones have weight 0)
  std::vector<int> first;
  std::vector<float> weight;  // (out, count)
};

Taps make_taps(int in, int out) {
  const double scale = double(in) / out;
  const double support = scale >= 1.0 ? scale : 1.0;
  const double inv = scale >= 1.0 ? 1.0 / scale : 1.0;
  Taps t;
  t.count = int(std::ceil(support)) * 2 + 1;
  t.first.resize(out);
  t.weight.assign(size_t(out) * t.count, 0.0f);
  std::vector<double> w(t.count);
  for (int i = 0; i < out; ++i) {
    const double center = scale * (i + 0.5);
    const int xmin = std::max(int(center - support + 0.5), 0);
    const int xsize = std::min(std::min(int(center + support + 0.5), in) - xmin, t.count);
    double total = 0;
    for (int j = 0; j < xsize; ++j) {
      w[j] = std::max(0.0, 1.0 - std::abs((j + xmin - center + 0.5) * inv));
      total += w[j];
    }
    t.first[i] = xmin;
    for (int j = 0; j < xsize; ++j) t.weight[size_t(i) * t.count + j] = float(w[j] / total);
  }
  return t;
}

// Reflect padding's source index for i in [−(n−1), 2(n−1)] and beyond: mirror about the first
// and last pixel without repeating them (torch pad mode "reflect"), bouncing as often as needed.
int reflect(int i, int n) {
  if (n == 1) return 0;
  const int period = 2 * (n - 1);
  i = std::abs(i) % period;
  return i < n ? i : period - i;
}

float clamp01(float x) { return std::min(1.0f, std::max(0.0f, x)); }

float luma(float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b; }

}  // namespace

FloatImage to_float(const Image& img) {
  BT_CHECK(img.w > 0 && img.h > 0 && img.pixels.size() == size_t(img.w) * img.h * C,
           "to_float: a ", img.w, "x", img.h, " image holds ", img.pixels.size(), " bytes, not w*h*3");
  FloatImage out(img.h, img.w);
  const size_t n = out.plane_size();
  for (size_t p = 0; p < n; ++p)
    for (int c = 0; c < C; ++c) out.data[c * n + p] = img.pixels[p * C + c] / 255.0f;
  return out;
}

FloatImage resized_crop(const FloatImage& img, int top, int left, int height, int width,
                        int out_h, int out_w) {
  BT_CHECK(height > 0 && width > 0 && out_h > 0 && out_w > 0, "resized_crop: empty size");
  BT_CHECK(top >= 0 && left >= 0 && top + height <= img.h && left + width <= img.w,
           "resized_crop: box (", top, ", ", left, ", ", height, ", ", width,
           ") outside a ", img.h, "×", img.w, " image");
  const Taps tx = make_taps(width, out_w), ty = make_taps(height, out_h);
  FloatImage rows(height, out_w);  // horizontal pass: (3, height, out_w)
  for (int c = 0; c < C; ++c) {
    for (int y = 0; y < height; ++y) {
      const float* src = img.plane(c) + size_t(top + y) * img.w + left;
      float* dst = rows.plane(c) + size_t(y) * out_w;
      for (int x = 0; x < out_w; ++x) {
        const float* w = &tx.weight[size_t(x) * tx.count];
        const float* s = src + tx.first[x];
        const int n = std::min(tx.count, width - tx.first[x]);
        float acc = 0;
        for (int k = 0; k < n; ++k) acc += w[k] * s[k];
        dst[x] = acc;
      }
    }
  }
  FloatImage out(out_h, out_w);  // vertical pass: (3, out_h, out_w)
  for (int c = 0; c < C; ++c) {
    for (int y = 0; y < out_h; ++y) {
      float* dst = out.plane(c) + size_t(y) * out_w;
      const int n = std::min(ty.count, height - ty.first[y]);
      for (int k = 0; k < n; ++k) {
        const float w = ty.weight[size_t(y) * ty.count + k];
        const float* src = rows.plane(c) + size_t(ty.first[y] + k) * out_w;
        for (int x = 0; x < out_w; ++x) dst[x] += w * src[x];
      }
    }
  }
  return out;
}

FloatImage resize(const FloatImage& img, int out_h, int out_w) {
  return resized_crop(img, 0, 0, img.h, img.w, out_h, out_w);
}

FloatImage resize_shorter_side(const FloatImage& img, int shorter) {
  const int s = std::min(img.h, img.w), l = std::max(img.h, img.w);
  if (s == shorter) return img;
  const int longer = int(int64_t(shorter) * l / s);
  return img.h <= img.w ? resize(img, shorter, longer) : resize(img, longer, shorter);
}

FloatImage center_crop(const FloatImage& img, int out_h, int out_w) {
  BT_CHECK(out_h <= img.h && out_w <= img.w, "center_crop: ", out_h, "×", out_w,
           " larger than the ", img.h, "×", img.w, " image");
  const int top = int(std::nearbyint((img.h - out_h) / 2.0));  // round half to even, as Python
  const int left = int(std::nearbyint((img.w - out_w) / 2.0));
  FloatImage out(out_h, out_w);
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < out_h; ++y)
      std::copy_n(img.plane(c) + size_t(top + y) * img.w + left, out_w,
                  out.plane(c) + size_t(y) * out_w);
  return out;
}

void hflip(FloatImage& img) {
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < img.h; ++y) {
      float* row = img.plane(c) + size_t(y) * img.w;
      std::reverse(row, row + img.w);
    }
}

void to_grayscale(FloatImage& img) {
  float *r = img.plane(0), *g = img.plane(1), *b = img.plane(2);
  for (size_t p = 0; p < img.plane_size(); ++p) r[p] = g[p] = b[p] = luma(r[p], g[p], b[p]);
}

void adjust_brightness(FloatImage& img, float factor) {
  for (float& x : img.data) x = clamp01(factor * x);
}

void adjust_contrast(FloatImage& img, float factor) {
  const float *r = img.plane(0), *g = img.plane(1), *b = img.plane(2);
  double sum = 0;
  for (size_t p = 0; p < img.plane_size(); ++p) sum += luma(r[p], g[p], b[p]);
  const float mean = float(sum / double(img.plane_size()));
  for (float& x : img.data) x = clamp01(factor * x + (1 - factor) * mean);
}

void adjust_saturation(FloatImage& img, float factor) {
  float *r = img.plane(0), *g = img.plane(1), *b = img.plane(2);
  for (size_t p = 0; p < img.plane_size(); ++p) {
    const float l = (1 - factor) * luma(r[p], g[p], b[p]);
    r[p] = clamp01(factor * r[p] + l);
    g[p] = clamp01(factor * g[p] + l);
    b[p] = clamp01(factor * b[p] + l);
  }
}

void adjust_hue(FloatImage& img, float hue_factor) {
  BT_CHECK(hue_factor >= -0.5f && hue_factor <= 0.5f, "adjust_hue: factor ", hue_factor,
           " outside [-0.5, 0.5]");
  float *pr = img.plane(0), *pg = img.plane(1), *pb = img.plane(2);
  // Branch-free, as torchvision writes it with masks, so the loop vectorises
  // (with -fno-trapping-math, see data/CMakeLists.txt).
  for (size_t p = 0; p < img.plane_size(); ++p) {
    const float r = pr[p], g = pg[p], b = pb[p];
    // _rgb2hsv
    const float maxc = std::max(std::max(r, g), b), minc = std::min(std::min(r, g), b);
    const bool eqc = maxc == minc;
    const float cr = maxc - minc;
    const float s = cr / (eqc ? 1.0f : maxc);
    const float div = eqc ? 1.0f : cr;
    const float rc = (maxc - r) / div, gc = (maxc - g) / div, bc = (maxc - b) / div;
    const float is_r = maxc == r, is_g = (maxc == g) & (maxc != r), is_b = (maxc != g) & (maxc != r);
    float h = is_r * (bc - gc) + is_g * (2.0f + rc - bc) + is_b * (4.0f + gc - rc);
    h = h / 6.0f + 1.0f;  // in [5/6, 11/6]
    h -= std::floor(h);   // fmod(h, 1): exact for these positive values
    // the shift, Python-style remainder (sign of the divisor): x − floor(x)
    h += hue_factor;
    h -= std::floor(h);
    // _hsv2rgb: sector i = floor(6h) mod 6 picks (r, g, b) among (v, q, p, p, t, v),
    // (t, v, v, q, p, p), (p, p, t, v, v, q)
    const float v = maxc;
    const float fi = std::floor(h * 6.0f), f = h * 6.0f - fi;
    const int i = int(fi) % 6;
    const float pp = clamp01(v * (1 - s)), q = clamp01(v * (1 - s * f)),
                t = clamp01(v * (1 - s * (1 - f)));
    const float m0 = i == 0, m1 = i == 1, m2 = i == 2, m3 = i == 3, m4 = i == 4, m5 = i == 5;
    pr[p] = (m0 + m5) * v + m1 * q + (m2 + m3) * pp + m4 * t;
    pg[p] = m0 * t + (m1 + m2) * v + m3 * q + (m4 + m5) * pp;
    pb[p] = (m0 + m1) * pp + m2 * t + (m3 + m4) * v + m5 * q;
  }
}

void gaussian_blur(FloatImage& img, int kernel_size, float sigma) {
  BT_CHECK(kernel_size > 0 && kernel_size % 2 == 1, "gaussian_blur: kernel size ", kernel_size,
           " must be odd and positive");
  BT_CHECK(sigma > 0, "gaussian_blur: sigma must be positive, got ", sigma);
  const int half = kernel_size / 2;
  std::vector<float> k(kernel_size);
  double total = 0;
  for (int i = 0; i < kernel_size; ++i) {
    const double x = (i - half) / double(sigma);
    total += (k[i] = float(std::exp(-0.5 * x * x)));
  }
  for (float& v : k) v = float(v / total);
  const int h = img.h, w = img.w;
  std::vector<int> ix(w + 2 * half), iy(h + 2 * half);  // padded position → source index
  for (int i = 0; i < w + 2 * half; ++i) ix[i] = reflect(i - half, w);
  for (int i = 0; i < h + 2 * half; ++i) iy[i] = reflect(i - half, h);
  std::vector<float> tmp(size_t(h) * w);
  for (int c = 0; c < C; ++c) {
    float* p = img.plane(c);
    for (int y = 0; y < h; ++y)  // rows
      for (int x = 0; x < w; ++x) {
        float acc = 0;
        for (int j = 0; j < kernel_size; ++j) acc += k[j] * p[size_t(y) * w + ix[x + j]];
        tmp[size_t(y) * w + x] = acc;
      }
    for (int y = 0; y < h; ++y) {  // columns
      float* dst = p + size_t(y) * w;
      std::fill_n(dst, w, 0.0f);
      for (int j = 0; j < kernel_size; ++j) {
        const float* src = &tmp[size_t(iy[y + j]) * w];
        for (int x = 0; x < w; ++x) dst[x] += k[j] * src[x];
      }
    }
  }
}

void solarize(FloatImage& img, float threshold) {
  for (float& x : img.data) x = x >= threshold ? 1.0f - x : x;
}

void normalize(FloatImage& img, const std::array<float, 3>& mean, const std::array<float, 3>& std) {
  for (int c = 0; c < C; ++c) {
    BT_CHECK(std[c] > 0, "normalize: std[", c, "] must be positive");
    const float inv = 1.0f / std[c];
    float* p = img.plane(c);
    for (size_t i = 0; i < img.plane_size(); ++i) p[i] = (p[i] - mean[c]) * inv;
  }
}

}  // namespace bt::data
