#pragma once
// A small SVG writer for one figure kind: histograms of a layer's weights at several epochs, one
// panel per epoch, with the target set Q drawn as vertical lines (the PARQ paper, Figure 11: the
// weights gathering on Q as the slope anneals). A panel can overlay a second series as an
// outline: `qnn qat` fills the latent u and outlines the weights w = map(u) the network uses.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace qnn::apps {

struct HistogramPanel {
  std::string title;             // e.g. "epoch 3 (parq inv 0.12)"
  std::vector<int64_t> counts;   // one per bin, bins evenly over [lo, hi]
  std::vector<float> levels;     // Q at that time (may be empty)
  std::vector<int64_t> overlay;  // optional second series on the same bins, drawn as an outline
};

struct Histogram {
  std::string title;
  std::string fill_label = "filled", overlay_label = "outline";  // legend, when panels overlay
  double lo = -1.0, hi = 1.0;
  std::vector<HistogramPanel> panels;
};

// The SVG document (self-contained, no scripts or fonts beyond a generic sans-serif).
std::string histogram_svg(const Histogram& h);

// The figure of a QAT run's latent_histogram.json (engine/qat_training.h): at most 6 panels, the
// start, evenly spaced epochs, the last epoch and the final model.
Histogram histogram_from_record(const nlohmann::json& record);
// Draws run_dir/latent_histogram.json (a finished QAT run) to run_dir/latent_histogram.svg.
void write_latent_histogram_svg(const std::string& run_dir);

}  // namespace qnn::apps
