#pragma once
// PNG plots for training runs (stb_image_write), with a built-in 5×7 bitmap font so no font
// library is needed: line plots (loss, kNN accuracy curves) and the diverging heatmap of the
// Barlow Twins cross-correlation matrix. Files are written atomically (write_file_atomic).
//
// The font covers digits, A–Z (lower case is drawn as upper case) and  . , - + _ : / ( ) % = *
// and space; any other character is drawn as '?'.
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace bt::tools {

using Rgb = std::array<uint8_t, 3>;

struct Series {
  std::string name;      // legend entry
  std::vector<double> x, y;  // same length; a non-finite point breaks the line
  bool dashed = false;   // drawn at 7 of every 12 steps: dashes of 8 pixels, gaps of 4 (e.g. a baseline)
};

struct LinePlotOptions {
  int width = 800, height = 480;  // pixels
  std::string x_label{}, y_label{};
  // Axis ranges; NaN: from the finite data, widened by 5 % of the span on each side (a span
  // of 0 becomes value ± 1).
  double x_min = NAN, x_max = NAN, y_min = NAN, y_max = NAN;
};

// The data area in pixels, inclusive; a legend of the named series takes a column on its right. A point maps to (std::lround, halves away from zero)
//   px = round(left + (x − x_min) / (x_max − x_min) · (right − left)),
//   py = round(bottom − (y − y_min) / (y_max − y_min) · (bottom − top)).
struct PlotArea {
  int left, top, right, bottom;
};
PlotArea line_plot_area(const LinePlotOptions& options, const std::vector<Series>& series);

// The colour of series i (the tab10 palette, cycling).
Rgb series_color(size_t i);

// Title on top, axes with "nice" ticks (1, 2, 5 × 10^k) and numeric labels, a light grid,
// each series as a 2-pixel polyline in series_color(i) (pixels (px, py) to (px+1, py+1)),
// dashed where the series says so, and the legend right of the data area. Throws bt::Error
// on mismatched x/y lengths, a width or height under 200, or an empty or inverted explicit
// range.
void save_line_plot(const std::string& path, const std::string& title,
                    const std::vector<Series>& series, const LinePlotOptions& options = {});

struct HeatmapOptions {
  int64_t crop = 0;  // show the top-left crop × crop block; 0: the whole matrix
  int cell = 0;      // pixels per cell; 0: max(1, 512 / n)
  std::string title{};
};

// Where save_heatmap puts things: cell (i, j) (row i, column j) fills
// [left + j·cell, left + (j+1)·cell) × [top + i·cell, top + (i+1)·cell); the colour bar
// [bar_left, bar_left + bar_width) × [top, top + bar_height) runs from +1 (top) to −1 (bottom).
struct HeatmapLayout {
  int64_t n;  // cells per side
  int cell, left, top;
  int bar_left, bar_width, bar_height;
  int width, height;  // of the image
};
HeatmapLayout heatmap_layout(int64_t matrix_side, const HeatmapOptions& options);

// Diverging blue–white–red colour map on [−1, 1] (ColorBrewer RdBu ends): −1 → (33, 102, 172),
// 0 → white, +1 → (178, 24, 43), linear in between; values are clamped to [−1, 1] and a
// non-finite value is drawn black.
Rgb diverging_color(double v);

// A square matrix c (D, D) (or its top-left crop) as a heatmap on [−1, 1] with a labelled
// colour bar.
void save_heatmap(const std::string& path, const Tensor& c, const HeatmapOptions& options = {});

}  // namespace bt::tools
