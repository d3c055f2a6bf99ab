#include "data/synthetic.h"

#include <algorithm>
#include <cmath>

#include "engine/rng.h"

namespace bt::data {

namespace {

struct Rgb {
  double r, g, b;
};

// HSV (all in [0, 1]) to RGB, the standard sextant formula.
Rgb hsv(double h, double s, double v) {
  h = (h - std::floor(h)) * 6.0;
  const int i = int(h) % 6;
  const double f = h - std::floor(h);
  const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  switch (i) {
    case 0: return {v, t, p};
    case 1: return {q, v, p};
    case 2: return {p, v, t};
    case 3: return {p, q, v};
    case 4: return {t, p, v};
    default: return {v, p, q};
  }
}

// Whether the offset (dx, dy) from the shape's centre lies inside class c's shape of radius r.
bool inside(int c, double dx, double dy, double r) {
  const double ax = std::abs(dx), ay = std::abs(dy), d = std::sqrt(dx * dx + dy * dy);
  const double box = std::max(ax, ay);
  const auto band = [r](double v) { return int(std::floor((v + r) / (r / 2))) % 2 == 0; };
  switch (c) {
    case 0: return d < r;                                        // disk
    case 1: return box < 0.85 * r;                               // square
    case 2: return box < r && band(dy);                          // horizontal stripes
    case 3: return d < r && d > 0.55 * r;                        // ring
    case 4: return (ax < r && ay < 0.3 * r) || (ay < r && ax < 0.3 * r);  // plus
    case 5: return ay < r && ax < 0.5 * (dy + r);                // triangle, apex up
    case 6: return box < r && band(dx);                          // vertical stripes
    case 7: return box < r && band(dx) == band(dy);              // checkerboard
    case 8: return box < r && std::abs(ax - ay) < 0.3 * r;       // X
    default: return box < r && box > 0.6 * r;                    // frame
  }
}

}  // namespace

SyntheticDataset::SyntheticDataset(SyntheticOptions options) : options_(options) {
  BT_CHECK(options.size > 0, "synthetic dataset: size must be positive, got ", options.size);
  BT_CHECK(options.image_size >= 8, "synthetic dataset: image_size must be >= 8, got ",
           options.image_size);
}

int SyntheticDataset::label(int64_t i) const {
  check_index(i);
  return int(i % kClasses);
}

Image SyntheticDataset::image(int64_t i) const {
  check_index(i);
  const int c = label(i), side = options_.image_size;
  Rng rng = Rng(options_.seed).fork(uint64_t(i));
  const Rgb fg = hsv(c / double(kClasses) + rng.normal(0, 0.02), rng.uniform(0.55, 1.0),
                     rng.uniform(0.6, 1.0));
  const Rgb bg = hsv(rng.uniform(), rng.uniform(0.0, 0.35), rng.uniform(0.1, 0.5));
  const double cx = rng.uniform(0.3, 0.7) * side, cy = rng.uniform(0.3, 0.7) * side;
  const double r = rng.uniform(0.22, 0.38) * side;
  const double noise = 0.06 * std::sqrt(3.0);  // uniform noise on [−a, a]: std 0.06
  Image img;
  img.w = img.h = side;
  img.pixels.resize(size_t(side) * side * 3);
  uint8_t* px = img.pixels.data();
  for (int y = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x, px += 3) {
      const Rgb col = inside(c, x + 0.5 - cx, y + 0.5 - cy, r) ? fg : bg;
      const double v[3] = {col.r, col.g, col.b};
      for (int k = 0; k < 3; ++k)
        px[k] = uint8_t(std::clamp(v[k] + rng.uniform(-noise, noise), 0.0, 1.0) * 255 + 0.5);
    }
  }
  return img;
}

const std::vector<std::string>& SyntheticDataset::class_names() {
  static const std::vector<std::string> names = {
      "disk", "square", "hstripes", "ring", "plus", "triangle", "vstripes", "checker", "x",
      "frame"};
  return names;
}

}  // namespace bt::data
