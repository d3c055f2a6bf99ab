#include "data/synthetic.h"

#include <algorithm>
#include <array>
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

// A smooth random colour field: colours drawn at the (kCells + 1)² corners of a kCells × kCells
// grid over the image (uniform hue and saturation, HSV value in [v_lo, v_hi]) and bilinearly
// interpolated in RGB in between, so the hues change across the image (and blends of distant
// hues come out darker and greyer than the corners).
class ColourField {
 public:
  static constexpr int kCells = 3;
  ColourField(Rng& rng, double v_lo, double v_hi) {
    for (Rgb& c : corners_) c = hsv(rng.uniform(), rng.uniform(), rng.uniform(v_lo, v_hi));
  }
  // The colour at (u, w) ∈ [0, 1]², image coordinates divided by the side.
  Rgb at(double u, double w) const {
    const double gx = u * kCells, gy = w * kCells;
    const int ix = std::min(int(gx), kCells - 1), iy = std::min(int(gy), kCells - 1);
    const double fx = gx - ix, fy = gy - iy;
    const Rgb &a = corner(ix, iy), &b = corner(ix + 1, iy), &c = corner(ix, iy + 1), &d = corner(ix + 1, iy + 1);
    const auto mix = [&](double Rgb::*ch) {
      return (1 - fy) * ((1 - fx) * a.*ch + fx * b.*ch) + fy * ((1 - fx) * c.*ch + fx * d.*ch);
    };
    return {mix(&Rgb::r), mix(&Rgb::g), mix(&Rgb::b)};
  }

 private:
  const Rgb& corner(int x, int y) const { return corners_[size_t(y * (kCells + 1) + x)]; }
  std::array<Rgb, (kCells + 1) * (kCells + 1)> corners_;
};

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
  // Colour carries no class: the shape and the background are each filled with a random colour
  // field (smooth, many hues), one drawn bright (HSV value 0.6–1 at the grid corners) and one
  // dark (0.05–0.35), at random. Only the outline tells the class, and since the colours change
  // across the image, two crops of it share little colour: an SSL method has to learn shapes.
  const bool bright_shape = rng.uniform() < 0.5;
  const ColourField fg(rng, bright_shape ? 0.6 : 0.05, bright_shape ? 1.0 : 0.35);
  const ColourField bg(rng, bright_shape ? 0.05 : 0.6, bright_shape ? 0.35 : 1.0);
  const double cx = rng.uniform(0.3, 0.7) * side, cy = rng.uniform(0.3, 0.7) * side;
  const double r = rng.uniform(0.22, 0.38) * side;
  const double noise = 0.06 * std::sqrt(3.0);  // uniform noise on [−a, a]: std 0.06
  Image img;
  img.w = img.h = side;
  img.pixels.resize(size_t(side) * side * 3);
  uint8_t* px = img.pixels.data();
  for (int y = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x, px += 3) {
      const double u = (x + 0.5) / side, w = (y + 0.5) / side;
      const Rgb col = inside(c, x + 0.5 - cx, y + 0.5 - cy, r) ? fg.at(u, w) : bg.at(u, w);
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
