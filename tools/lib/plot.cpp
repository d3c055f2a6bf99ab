#include "tools/lib/plot.h"

#include <stb/stb_image_write.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "tools/lib/npy.h"

namespace bt::tools {

namespace {

// ---- 5×7 bitmap font: 7 rows top to bottom, bit 4 (0x10) is the leftmost column ----------

struct Glyph {
  char c;
  uint8_t rows[7];
};

constexpr Glyph kFont[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}}, {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}}, {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}}, {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}}, {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}}, {'*', {0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00}},
    {' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}}, {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}},
};

const uint8_t* glyph_rows(char ch) {
  const char up = char(std::toupper(static_cast<unsigned char>(ch)));
  for (const Glyph& g : kFont)
    if (g.c == up) return g.rows;
  return glyph_rows('?');
}

constexpr int kAdvance = 6;  // glyph width 5 + 1 pixel of spacing
constexpr int kGlyphHeight = 7;

int text_width(const std::string& s, int scale) {
  return s.empty() ? 0 : (kAdvance * int(s.size()) - 1) * scale;
}

constexpr Rgb kBlack = {0, 0, 0}, kWhite = {255, 255, 255}, kGrid = {228, 228, 228},
              kBorder = {160, 160, 160};

// ---- an RGB raster --------------------------------------------------------------------------

class Canvas {
 public:
  Canvas(int w, int h) : w_(w), h_(h), px_(size_t(w) * h * 3, 255) {}

  void set(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
    std::copy(c.begin(), c.end(), px_.begin() + (ptrdiff_t(y) * w_ + x) * 3);
  }
  void fill(int x0, int y0, int x1, int y1, Rgb c) {  // [x0, x1) × [y0, y1)
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) set(x, y, c);
  }
  void hline(int x0, int x1, int y, Rgb c) { fill(x0, y, x1 + 1, y + 1, c); }  // inclusive
  void vline(int x, int y0, int y1, Rgb c) { fill(x, y0, x + 1, y1 + 1, c); }
  void rect(int x0, int y0, int x1, int y1, Rgb c) {  // outline, inclusive corners
    hline(x0, x1, y0, c), hline(x0, x1, y1, c), vline(x0, y0, y1, c), vline(x1, y0, y1, c);
  }
  // Bresenham from (x0, y0) to (x1, y1), each point stamped as a t × t square to its lower right.
  // Bresenham; dashed: 7 pixels drawn, 5 skipped, counted along the line.
  void line(int x0, int y0, int x1, int y1, Rgb c, int t, bool dashed = false) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (int n = 0;; ++n) {
      if (!dashed || n % 12 < 7) fill(x0, y0, x0 + t, y0 + t, c);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }
  // Text with its top-left corner at (x, y), each font pixel a scale × scale block.
  void text(int x, int y, const std::string& s, Rgb c, int scale = 1) {
    for (size_t k = 0; k < s.size(); ++k) {
      const uint8_t* rows = glyph_rows(s[k]);
      const int gx = x + int(k) * kAdvance * scale;
      for (int r = 0; r < kGlyphHeight; ++r)
        for (int col = 0; col < 5; ++col)
          if (rows[r] & (0x10 >> col)) fill(gx + col * scale, y + r * scale, gx + (col + 1) * scale, y + (r + 1) * scale, c);
    }
  }
  void save_png(const std::string& path) const {
    std::string bytes;
    auto append = [](void* ctx, void* data, int size) {
      static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), size_t(size));
    };
    BT_CHECK(stbi_write_png_to_func(append, &bytes, w_, h_, 3, px_.data(), w_ * 3) != 0,
             "cannot encode PNG ", path);
    write_file_atomic(path, bytes);
  }

 private:
  int w_, h_;
  std::vector<uint8_t> px_;  // (h, w, 3)
};

// ---- axes -----------------------------------------------------------------------------------

// The "nice" step 1, 2 or 5 × 10^k nearest span / target.
double nice_step(double span, int target) {
  const double raw = span / target;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

// A tick value with as many digits as the step needs: fixed point, or exponent form for
// magnitudes ≥ 1e6 or steps < 1e-4.
std::string tick_label(double v, double step, double magnitude) {
  char buf[32];
  if (std::abs(v) < step * 1e-9) return "0";
  const int step_exp = int(std::floor(std::log10(step) + 1e-9));
  if (magnitude >= 1e6 || step < 1e-4) {
    const int prec = std::clamp(int(std::floor(std::log10(std::abs(v)))) - step_exp, 0, 6);
    std::snprintf(buf, sizeof buf, "%.*e", prec, v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*f", std::clamp(-step_exp, 0, 6), v);
  }
  return buf;
}

struct Range {
  double lo, hi;
};

// The explicit bounds where given, else the finite data's, padded by 5 % on the free sides.
Range axis_range(double lo_opt, double hi_opt, const std::vector<const std::vector<double>*>& data,
                 const char* axis) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto* v : data)
    for (double d : *v)
      if (std::isfinite(d)) lo = std::min(lo, d), hi = std::max(hi, d);
  if (lo > hi) lo = 0, hi = 1;  // no finite data
  if (!std::isnan(lo_opt)) lo = lo_opt;
  if (!std::isnan(hi_opt)) hi = hi_opt;
  if (std::isnan(lo_opt) || std::isnan(hi_opt)) {
    const double pad = hi > lo ? 0.05 * (hi - lo) : 1.0;
    if (std::isnan(lo_opt)) lo -= pad;
    if (std::isnan(hi_opt)) hi += pad;
  }
  BT_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo < hi, "line plot: empty or inverted ", axis,
           " range [", lo, ", ", hi, "]");
  return {lo, hi};
}

std::vector<double> ticks(const Range& r, double step) {
  std::vector<double> out;
  for (double k = std::ceil(r.lo / step - 1e-9); k * step <= r.hi + 1e-9 * step; ++k) out.push_back(k * step);
  return out;
}

// Liang–Barsky: clips the segment (x0, y0)–(x1, y1) to the area; false when nothing is left.
bool clip_segment(double& x0, double& y0, double& x1, double& y1, const PlotArea& a) {
  double t0 = 0, t1 = 1;
  const double dx = x1 - x0, dy = y1 - y0;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {x0 - a.left, a.right - x0, y0 - a.top, a.bottom - y0};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0) t0 = std::max(t0, t);
    else t1 = std::min(t1, t);
  }
  if (t0 > t1) return false;
  x1 = x0 + t1 * dx, y1 = y0 + t1 * dy;
  x0 = x0 + t0 * dx, y0 = y0 + t0 * dy;
  return true;
}

}  // namespace

// ---- line plot ------------------------------------------------------------------------------

namespace {

// Width of the legend column right of the data area: a swatch and the longest name.
int legend_width(const std::vector<Series>& series) {
  int name_w = 0;
  for (const Series& s : series)
    if (!s.name.empty()) name_w = std::max(name_w, text_width(s.name, 1));
  return name_w > 0 ? 36 + name_w : 0;
}

}  // namespace

PlotArea line_plot_area(const LinePlotOptions& o, const std::vector<Series>& series) {
  const int legend = legend_width(series);
  return {70, 40, o.width - 20 - (legend > 0 ? legend + 10 : 0), o.height - 45};
}

Rgb series_color(size_t i) {
  static constexpr Rgb kTab10[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40},
                                   {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                   {188, 189, 34},  {23, 190, 207}};
  return kTab10[i % 10];
}

void save_line_plot(const std::string& path, const std::string& title,
                    const std::vector<Series>& series, const LinePlotOptions& o) {
  BT_CHECK(o.width >= 200 && o.height >= 200, "line plot ", path, ": image must be at least 200×200");
  std::vector<const std::vector<double>*> xs, ys;
  for (const Series& s : series) {
    BT_CHECK(s.x.size() == s.y.size(), "line plot ", path, ": series '", s.name, "' has ", s.x.size(),
             " x values but ", s.y.size(), " y values");
    xs.push_back(&s.x), ys.push_back(&s.y);
  }
  const Range xr = axis_range(o.x_min, o.x_max, xs, "x"), yr = axis_range(o.y_min, o.y_max, ys, "y");
  const PlotArea a = line_plot_area(o, series);
  BT_CHECK(a.right - a.left >= 100, "line plot ", path, ": the legend leaves no room for the data");
  auto px = [&](double x) { return a.left + (x - xr.lo) / (xr.hi - xr.lo) * (a.right - a.left); };
  auto py = [&](double y) { return a.bottom - (y - yr.lo) / (yr.hi - yr.lo) * (a.bottom - a.top); };

  Canvas cv(o.width, o.height);
  const double xstep = nice_step(xr.hi - xr.lo, 8), ystep = nice_step(yr.hi - yr.lo, 6);
  const std::vector<double> xt = ticks(xr, xstep), yt = ticks(yr, ystep);
  for (double v : xt) cv.vline(int(std::lround(px(v))), a.top, a.bottom, kGrid);
  for (double v : yt) cv.hline(a.left, a.right, int(std::lround(py(v))), kGrid);

  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    for (size_t k = 1; k < s.x.size(); ++k) {
      double x0 = px(s.x[k - 1]), y0 = py(s.y[k - 1]), x1 = px(s.x[k]), y1 = py(s.y[k]);
      if (!(std::isfinite(x0) && std::isfinite(y0) && std::isfinite(x1) && std::isfinite(y1))) continue;
      if (clip_segment(x0, y0, x1, y1, a))
        cv.line(int(std::lround(x0)), int(std::lround(y0)), int(std::lround(x1)), int(std::lround(y1)),
                series_color(i), 2, s.dashed);
    }
    if (s.x.size() == 1 && std::isfinite(px(s.x[0])) && std::isfinite(py(s.y[0]))) {  // a lone point
      const int x = int(std::lround(px(s.x[0]))), y = int(std::lround(py(s.y[0])));
      if (x >= a.left && x <= a.right && y >= a.top && y <= a.bottom) cv.fill(x - 1, y - 1, x + 3, y + 3, series_color(i));
    }
  }

  // Frame, ticks and their labels.
  cv.rect(a.left, a.top, a.right, a.bottom, kBlack);
  const double xmag = std::max(std::abs(xr.lo), std::abs(xr.hi)), ymag = std::max(std::abs(yr.lo), std::abs(yr.hi));
  for (double v : xt) {
    const int x = int(std::lround(px(v)));
    cv.vline(x, a.bottom, a.bottom + 4, kBlack);
    const std::string label = tick_label(v, xstep, xmag);
    cv.text(x - text_width(label, 1) / 2, a.bottom + 8, label, kBlack);
  }
  for (double v : yt) {
    const int y = int(std::lround(py(v)));
    cv.hline(a.left - 4, a.left, y, kBlack);
    const std::string label = tick_label(v, ystep, ymag);
    cv.text(a.left - 8 - text_width(label, 1), y - kGlyphHeight / 2, label, kBlack);
  }
  cv.text((a.left + a.right - text_width(o.x_label, 1)) / 2, a.bottom + 24, o.x_label, kBlack);
  cv.text(a.left, a.top - 12, o.y_label, kBlack);
  cv.text((o.width - text_width(title, 2)) / 2, 8, title, kBlack, 2);

  // Legend: a swatch and the name of each named series, in the column right of the data area,
  // so it never covers a point.
  const int legend_left = a.right + 10;
  int row = 0;
  for (size_t i = 0; i < series.size(); ++i) {
    if (series[i].name.empty()) continue;
    const int y = a.top + 6 + 12 * row++;
    for (int x = legend_left; x < legend_left + 20; ++x)
      if (!series[i].dashed || (x - legend_left) % 12 < 7) cv.fill(x, y + 2, x + 1, y + 4, series_color(i));
    cv.text(legend_left + 26, y, series[i].name, kBlack);
  }
  cv.save_png(path);
}

// ---- heatmap --------------------------------------------------------------------------------

HeatmapLayout heatmap_layout(int64_t matrix_side, const HeatmapOptions& o) {
  BT_CHECK(matrix_side >= 1, "heatmap: empty matrix");
  BT_CHECK(o.crop >= 0 && o.cell >= 0, "heatmap: crop and cell must be non-negative");
  HeatmapLayout l;
  l.n = o.crop > 0 ? std::min(o.crop, matrix_side) : matrix_side;
  l.cell = o.cell > 0 ? o.cell : int(std::max<int64_t>(1, 512 / l.n));
  l.left = 20, l.top = 40;
  const int side = int(l.n) * l.cell;
  l.bar_left = l.left + side + 20, l.bar_width = 20;
  l.bar_height = std::max(side, 100);
  l.width = l.bar_left + l.bar_width + 6 + text_width("-0.5", 1) + 10;
  l.width = std::max(l.width, text_width(o.title, 2) + 20);
  l.height = l.top + l.bar_height + 20;
  return l;
}

Rgb diverging_color(double v) {
  if (!std::isfinite(v)) return kBlack;
  v = std::clamp(v, -1.0, 1.0);
  const Rgb end = v < 0 ? Rgb{33, 102, 172} : Rgb{178, 24, 43};
  const double t = std::abs(v);
  Rgb out;
  for (int c = 0; c < 3; ++c) out[size_t(c)] = uint8_t(std::lround(255.0 + t * (end[size_t(c)] - 255.0)));
  return out;
}

void save_heatmap(const std::string& path, const Tensor& c, const HeatmapOptions& o) {
  BT_CHECK(c.defined() && c.dim() == 2 && c.size(0) == c.size(1), "heatmap ", path,
           ": expected a square (D, D) matrix");
  const HeatmapLayout l = heatmap_layout(c.size(0), o);
  const std::vector<double> v = c.slice(0, 0, l.n).slice(1, 0, l.n).to(Device::cpu).to_vector();  // (n, n)
  Canvas cv(l.width, l.height);
  for (int64_t i = 0; i < l.n; ++i)
    for (int64_t j = 0; j < l.n; ++j) {
      const int x = l.left + int(j) * l.cell, y = l.top + int(i) * l.cell;
      cv.fill(x, y, x + l.cell, y + l.cell, diverging_color(v[size_t(i * l.n + j)]));
    }
  // Colour bar: row r shows the value 1 − 2r/(H − 1), with ticks at ±1, ±0.5 and 0.
  for (int r = 0; r < l.bar_height; ++r)
    cv.hline(l.bar_left, l.bar_left + l.bar_width - 1, l.top + r,
             diverging_color(1.0 - 2.0 * r / std::max(l.bar_height - 1, 1)));
  cv.rect(l.bar_left - 1, l.top - 1, l.bar_left + l.bar_width, l.top + l.bar_height, kBorder);
  for (double t : {1.0, 0.5, 0.0, -0.5, -1.0}) {
    const int y = l.top + int(std::lround((1.0 - t) / 2.0 * (l.bar_height - 1)));
    cv.hline(l.bar_left + l.bar_width, l.bar_left + l.bar_width + 3, y, kBlack);
    cv.text(l.bar_left + l.bar_width + 6, y - kGlyphHeight / 2, tick_label(t, 0.5, 1.0), kBlack);
  }
  cv.text(l.left, 12, o.title, kBlack, 2);
  cv.save_png(path);
}

}  // namespace bt::tools
