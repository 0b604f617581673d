#pragma once
// A small SVG line-plot writer for the figures `qnn reproduce` puts in its run folder: axes
// (linear or log10), ticks, series as polylines with markers, a legend. No dependency; the file
// opens in any browser.
#include <string>
#include <vector>

namespace qnn::apps {

struct PlotSeries {
  std::string label;
  std::vector<double> x, y;
  std::string color;  // CSS color; empty: from a fixed palette
  bool dashed = false;
};

struct PlotOptions {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  int width = 720, height = 480;
};

// `text` with <, > and & escaped for SVG text content (shared by the SVG writers).
std::string svg_escape(const std::string& text);

// Writes the plot to `path` (atomically). Points with non-finite coordinates, or non-positive
// ones on a log axis, are skipped. Throws qnn::Error when the file cannot be written.
void write_line_plot_svg(const std::string& path, const std::vector<PlotSeries>& series, const PlotOptions& options);

}  // namespace qnn::apps
