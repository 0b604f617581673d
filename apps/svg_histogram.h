#pragma once
// A small SVG writer for one figure kind: histograms of a layer's weights at several epochs, one
// panel per epoch, with the target set Q drawn as vertical lines (PARQ digest section 6: the
// latent weights gathering on Q as the slope anneals).
#include <cstdint>
#include <string>
#include <vector>

namespace qnn::apps {

struct HistogramPanel {
  std::string title;            // e.g. "epoch 3 (parq inv 0.12)"
  std::vector<int64_t> counts;  // one per bin, bins evenly over [lo, hi]
  std::vector<float> levels;    // Q at that time (may be empty)
};

struct Histogram {
  std::string title;
  double lo = -1.0, hi = 1.0;
  std::vector<HistogramPanel> panels;
};

// Counts of `values` in `bins` even bins over [lo, hi]; values outside go to the end bins.
std::vector<int64_t> histogram_counts(const float* values, int64_t n, double lo, double hi, int bins);

// The SVG document (self-contained, no scripts or fonts beyond a generic sans-serif).
std::string histogram_svg(const Histogram& h);

}  // namespace qnn::apps
