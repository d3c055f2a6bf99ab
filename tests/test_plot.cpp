// PNG plots (tools/lib/plot.h): decoded back with stb_image and checked pixel by pixel at the
// places the documented layout puts cells, lines and the colour bar.
#include <stb/stb_image.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include <unistd.h>

#include "support/temp_dir.h"
#include "tools/lib/plot.h"

using namespace bt;
using namespace bt::tools;
namespace fs = std::filesystem;

using bt::testing::TempDir;

namespace {


struct Png {
  int w = 0, h = 0;
  std::vector<uint8_t> px;  // (h, w, 3)
  explicit Png(const std::string& path) {
    int comp = 0;
    uint8_t* data = stbi_load(path.c_str(), &w, &h, &comp, 3);
    REQUIRE(data != nullptr);
    px.assign(data, data + size_t(w) * h * 3);
    stbi_image_free(data);
  }
  Rgb at(int x, int y) const {
    const size_t i = (size_t(y) * w + x) * 3;
    return {px[i], px[i + 1], px[i + 2]};
  }
  int count(Rgb c, int x0, int y0, int x1, int y1) const {  // in [x0, x1) × [y0, y1)
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) n += at(x, y) == c;
    return n;
  }
};

constexpr Rgb kWhite = {255, 255, 255}, kBlack = {0, 0, 0};

Tensor matrix(const std::vector<double>& values, int64_t n) {
  return Tensor::from_vector(values, {n, n});
}

}  // namespace

TEST_CASE("diverging colour map: −1 blue, 0 white, +1 red, clamped, non-finite black") {
  REQUIRE(diverging_color(0) == kWhite);
  REQUIRE(diverging_color(-1) == Rgb{33, 102, 172});
  REQUIRE(diverging_color(1) == Rgb{178, 24, 43});
  REQUIRE(diverging_color(5) == diverging_color(1));
  REQUIRE(diverging_color(-7) == diverging_color(-1));
  REQUIRE(diverging_color(NAN) == kBlack);
  // Halfway: (255 + 178)/2 = 216.5 → 217, (255 + 24)/2 = 139.5 → 140, (255 + 43)/2 = 149.
  REQUIRE(diverging_color(0.5) == Rgb{217, 140, 149});
}

TEST_CASE("heatmap: each cell's colour at its documented place, colour bar from +1 to −1") {
  TempDir dir;
  // (4, 4): C00 = 1, C12 = −1, C33 = 0, C21 = 0.5, the rest 0.25.
  std::vector<double> v(16, 0.25);
  v[0] = 1, v[1 * 4 + 2] = -1, v[3 * 4 + 3] = 0, v[2 * 4 + 1] = 0.5;
  const std::string path = dir / "c.png";
  save_heatmap(path, matrix(v, 4), {.title = "cross-correlation"});
  const HeatmapLayout l = heatmap_layout(4, {.title = "cross-correlation"});
  REQUIRE(l.n == 4);
  REQUIRE(l.cell == 128);  // 512 / 4
  const Png png(path);
  REQUIRE(png.w == l.width);
  REQUIRE(png.h == l.height);
  auto centre = [&](int i, int j) { return png.at(l.left + j * l.cell + l.cell / 2, l.top + i * l.cell + l.cell / 2); };
  REQUIRE(centre(0, 0) == diverging_color(1));
  REQUIRE(centre(0, 0)[0] > 150);  // red
  REQUIRE(centre(1, 2) == diverging_color(-1));
  REQUIRE(centre(1, 2)[2] > 150);  // blue
  REQUIRE(centre(3, 3) == kWhite);
  REQUIRE(centre(2, 1) == diverging_color(0.5));
  REQUIRE(centre(3, 0) == diverging_color(0.25));
  // The whole cell is filled: both corners of cell (1, 2).
  REQUIRE(png.at(l.left + 2 * l.cell, l.top + l.cell) == diverging_color(-1));
  REQUIRE(png.at(l.left + 3 * l.cell - 1, l.top + 2 * l.cell - 1) == diverging_color(-1));
  // Colour bar: red at the top row, blue at the bottom row.
  REQUIRE(png.at(l.bar_left + l.bar_width / 2, l.top) == diverging_color(1));
  REQUIRE(png.at(l.bar_left + l.bar_width / 2, l.top + l.bar_height - 1) == diverging_color(-1));
  // The title and the colour bar labels put black pixels above the matrix and right of the bar.
  REQUIRE(png.count(kBlack, 0, 0, png.w, l.top) > 20);
  REQUIRE(png.count(kBlack, l.bar_left + l.bar_width + 4, l.top, png.w, png.h) > 20);
}

TEST_CASE("heatmap: a top-left crop and an explicit cell size") {
  TempDir dir;
  std::vector<double> v(100, -1.0);  // (10, 10) all −1 except the 3 × 3 corner
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) v[size_t(i * 10 + j)] = 1.0;
  const HeatmapOptions o{.crop = 3, .cell = 4};
  save_heatmap(dir / "crop.png", matrix(v, 10), o);
  const HeatmapLayout l = heatmap_layout(10, o);
  REQUIRE(l.n == 3);
  const Png png(dir / "crop.png");
  REQUIRE(png.w == l.width);
  REQUIRE(png.h == l.height);
  // Only the crop is drawn: its 3·4 × 3·4 pixels are red, and no pixel of the matrix area
  // beyond it is blue.
  REQUIRE(png.count(diverging_color(1), l.left, l.top, l.left + 12, l.top + 12) == 144);
  REQUIRE(png.count(diverging_color(-1), l.left, l.top, l.bar_left - 1, png.h) == 0);
  REQUIRE_THROWS_WITH(save_heatmap(dir / "bad.png", Tensor::zeros({2, 3})), Catch::Contains("square"));
}

TEST_CASE("line plot: a constant series is a horizontal line of its colour at the mapped row") {
  TempDir dir;
  const LinePlotOptions o{.width = 640, .height = 300, .x_label = "epoch", .y_label = "loss",
                          .x_min = 0, .x_max = 10, .y_min = 0, .y_max = 2};
  Series one{"one", {}, {}}, half{"half", {}, {}};
  for (int x = 0; x <= 10; ++x) {
    one.x.push_back(x), one.y.push_back(1.0);
    half.x.push_back(x), half.y.push_back(0.5);
  }
  const std::string path = dir / "lines.png";
  save_line_plot(path, "Loss (bt) 1e-3", {one, half}, o);
  const Png png(path);
  REQUIRE(png.w == 640);
  REQUIRE(png.h == 300);
  const PlotArea a = line_plot_area(o, {one, half});
  auto row_of = [&](double y) { return int(std::lround(a.bottom - (y - 0.0) / 2.0 * (a.bottom - a.top))); };
  const int r1 = row_of(1.0), r05 = row_of(0.5);
  const int inner = a.right - a.left - 1;  // columns strictly inside the frame
  REQUIRE(png.count(series_color(0), a.left + 1, r1, a.right, r1 + 1) == inner);
  REQUIRE(png.count(series_color(1), a.left + 1, r05, a.right, r05 + 1) == inner);
  // 2 pixels thick (the row below), nothing of the colour above it or at a far row.
  REQUIRE(png.count(series_color(0), a.left + 1, r1 + 1, a.right, r1 + 2) == inner);
  REQUIRE(png.count(series_color(0), a.left + 1, r1 - 1, a.right, r1) == 0);
  REQUIRE(png.count(series_color(0), a.left + 1, row_of(1.5), a.right, row_of(1.5) + 1) == 0);
  // Frame, tick labels left of the axis and under it, the title and the legend.
  REQUIRE(png.at(a.left, (a.top + a.bottom) / 2) == kBlack);
  REQUIRE(png.at(a.right, a.top) == kBlack);
  REQUIRE(png.count(kBlack, 0, a.top, a.left - 5, a.bottom) > 30);
  REQUIRE(png.count(kBlack, a.left, a.bottom + 5, a.right, png.h) > 30);
  REQUIRE(png.count(kBlack, 0, 0, png.w, a.top - 14) > 30);
  REQUIRE(png.count(series_color(1), a.right + 1, a.top, png.w, a.top + 40) >= 40);  // legend swatch, outside
  // Nothing is left behind but the PNG (atomic write).
  REQUIRE(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("line plot: a non-finite point breaks the line; automatic ranges") {
  TempDir dir;
  const LinePlotOptions o{.x_min = 0, .x_max = 4, .y_min = 0, .y_max = 2};
  const Series gap{"loss", {0, 1, 2, 3, 4}, {1, 1, NAN, 1, 1}};
  save_line_plot(dir / "gap.png", "gap", {gap}, o);
  const Png png(dir / "gap.png");
  const PlotArea a = line_plot_area(o, {gap});
  const int row = int(std::lround(a.bottom - 0.5 * (a.bottom - a.top)));
  auto col = [&](double x) { return int(std::lround(a.left + x / 4.0 * (a.right - a.left))); };
  const Rgb c = series_color(0);
  REQUIRE(png.count(c, col(0.1), row, col(0.9), row + 1) == col(0.9) - col(0.1));
  REQUIRE(png.count(c, col(1.2), row, col(2.8), row + 1) == 0);  // the gap around x = 2
  REQUIRE(png.count(c, col(3.1), row, col(3.9), row + 1) == col(3.9) - col(3.1));

  // Data ranges (padded), an unnamed series (no legend), large and tiny values, one point.
  Series big{"", {0, 1e6, 2e6}, {1e-5, 3e-5, 2e-5}};
  const Series point{"point", {1e6}, {2e-5}};
  save_line_plot(dir / "auto.png", "", {big, point});
  const Png auto_png(dir / "auto.png");
  REQUIRE(auto_png.w == 800);
  REQUIRE(auto_png.count(series_color(0), 0, 0, auto_png.w, auto_png.h) > 100);
  // Padded ranges: x [−1e5, 2.1e6], y [9e-6, 3.1e-5]; the lone point (1e6, 2e-5) sits in the
  // middle of the default 800 × 480 area.
  const PlotArea d = line_plot_area({}, {big, point});
  const int px = int(std::lround(d.left + 0.5 * (d.right - d.left)));
  const int py = int(std::lround(d.bottom - 0.5 * (d.bottom - d.top)));
  REQUIRE(auto_png.at(px, py) == series_color(1));
}

TEST_CASE("line plot: the legend sits beside the data and covers no point; dashed baselines") {
  TempDir dir;
  const LinePlotOptions o{.x_min = 0, .x_max = 10, .y_min = 0, .y_max = 2};
  // A curve along the top of the area, where a legend inside it would be drawn, and a dashed
  // baseline along the bottom.
  const Series top{"a long series name", {0, 10}, {1.95, 1.95}}, base{"random init", {0, 10}, {0.1, 0.1}, true};
  save_line_plot(dir / "legend.png", "legend", {top, base}, o);
  const Png png(dir / "legend.png");
  const PlotArea a = line_plot_area(o, {top, base});
  REQUIRE(a.right < 800 - 20 - 36);  // the legend column is outside the data area
  const PlotArea bare = line_plot_area(o, {{"", {0}, {0}}});
  REQUIRE(bare.right == 800 - 20);  // no named series: no legend column
  auto row_of = [&](double y) { return int(std::lround(a.bottom - y / 2.0 * (a.bottom - a.top))); };
  const int inner = a.right - a.left - 1;
  REQUIRE(png.count(series_color(0), a.left + 1, row_of(1.95), a.right, row_of(1.95) + 1) == inner);
  // Dashed: the 2-pixel pen at 7 of every 12 steps, so 8 of every 12 pixels along the line.
  const int dashed = png.count(series_color(1), a.left + 1, row_of(0.1), a.right, row_of(0.1) + 1);
  REQUIRE(dashed >= inner * 8 / 12 - 8);
  REQUIRE(dashed <= inner * 8 / 12 + 8);
  // Both legend entries right of the frame.
  REQUIRE(png.count(series_color(0), a.right + 1, a.top, png.w, a.top + 40) >= 40);
  REQUIRE(png.count(series_color(1), a.right + 1, a.top, png.w, a.top + 40) >= 20);
}

TEST_CASE("line plot: bad input is an error naming the file") {
  TempDir dir;
  const std::string path = dir / "bad.png";
  REQUIRE_THROWS_WITH(save_line_plot(path, "t", {{"s", {0, 1}, {1}}}), Catch::Contains(path));
  REQUIRE_THROWS_WITH(save_line_plot(path, "t", {{"s", {0, 1}, {1, 2}}}, {.y_min = 3, .y_max = 1}),
                      Catch::Contains("y range"));
  REQUIRE_THROWS_WITH(save_line_plot(path, "t", {}, {.width = 50}), Catch::Contains("200"));
  REQUIRE_THROWS_WITH(save_line_plot("/nonexistent_dir_bt/p.png", "t", {}), Catch::Contains("/nonexistent_dir_bt/p.png"));
  REQUIRE_FALSE(fs::exists(path));
}
