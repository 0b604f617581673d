#include "apps/svg_histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/svg_plot.h"
#include "core/config.h"

namespace qnn::apps {

namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// The overlay as one step-shaped polyline over the panel, scaled to its own peak: a series that sits
// entirely on a few values (weights exactly on Q) would otherwise flatten the filled one.
std::string overlay_outline(const std::vector<int64_t>& counts, double left, double base, double plot_w,
                            double panel_h) {
  const int64_t peak = std::max<int64_t>(1, *std::max_element(counts.begin(), counts.end()));
  const double bin_w = plot_w / static_cast<double>(counts.size());
  std::string points;
  for (size_t b = 0; b < counts.size(); ++b) {
    const double y = base - panel_h * static_cast<double>(counts[b]) / static_cast<double>(peak);
    const double x0 = left + static_cast<double>(b) * bin_w;
    points += fmt(x0) + "," + fmt(y) + " " + fmt(x0 + bin_w) + "," + fmt(y) + " ";
  }
  return "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"#e08020\" stroke-width=\"1.2\"/>\n" +
         "<text x=\"" + fmt(left + plot_w - 4) + "\" y=\"" + fmt(base - panel_h + 10) +
         "\" text-anchor=\"end\" fill=\"#e08020\">" + std::to_string(peak) + "</text>\n";
}

}  // namespace

std::string histogram_svg(const Histogram& h) {
  // Layout: panels stacked vertically, a shared x axis in weight units.
  const double width = 640, left = 50, right = 20, panel_h = 110, gap = 28, top = 40;
  const double plot_w = width - left - right;
  const double height = top + static_cast<double>(h.panels.size()) * (panel_h + gap) + 34;
  auto x_of = [&](double v) { return left + (v - h.lo) / (h.hi - h.lo) * plot_w; };
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  s << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"" << width / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" << svg_escape(h.title)
    << "</text>\n";
  for (size_t p = 0; p < h.panels.size(); ++p) {
    const HistogramPanel& panel = h.panels[p];
    const double y0 = top + static_cast<double>(p) * (panel_h + gap);
    const double base = y0 + panel_h;
    const int64_t peak = std::max<int64_t>(1, *std::max_element(panel.counts.begin(), panel.counts.end()));
    const double bin_w = plot_w / static_cast<double>(panel.counts.size());
    s << "<text x=\"" << left << "\" y=\"" << y0 - 6 << "\">" << svg_escape(panel.title) << "</text>\n";
    s << "<rect x=\"" << left << "\" y=\"" << y0 << "\" width=\"" << plot_w << "\" height=\"" << panel_h
      << "\" fill=\"none\" stroke=\"#999\"/>\n";
    for (size_t b = 0; b < panel.counts.size(); ++b) {
      if (panel.counts[b] == 0)
        continue;
      const double bh = panel_h * static_cast<double>(panel.counts[b]) / static_cast<double>(peak);
      s << "<rect x=\"" << fmt(left + static_cast<double>(b) * bin_w) << "\" y=\"" << fmt(base - bh) << "\" width=\""
        << fmt(bin_w) << "\" height=\"" << fmt(bh) << "\" fill=\"#4878b0\"/>\n";
    }
    for (float q : panel.levels) {
      if (q < h.lo || q > h.hi)
        continue;
      s << "<line x1=\"" << fmt(x_of(q)) << "\" x2=\"" << fmt(x_of(q)) << "\" y1=\"" << y0 << "\" y2=\"" << base
        << "\" stroke=\"#d03030\" stroke-width=\"1.2\" stroke-dasharray=\"4,2\"/>\n";
    }
    s << "<text x=\"" << left - 4 << "\" y=\"" << y0 + 10 << "\" text-anchor=\"end\">" << peak << "</text>\n";
    if (!panel.overlay.empty())
      s << overlay_outline(panel.overlay, left, base, plot_w, panel_h);
  }
  // x axis ticks under the last panel
  const double axis_y = top + static_cast<double>(h.panels.size()) * (panel_h + gap) - gap + 14;
  for (int k = 0; k <= 4; ++k) {
    const double v = h.lo + (h.hi - h.lo) * k / 4.0;
    s << "<text x=\"" << fmt(x_of(v)) << "\" y=\"" << axis_y << "\" text-anchor=\"middle\">" << fmt(v) << "</text>\n";
  }
  s << "<text x=\"" << width - right << "\" y=\"" << axis_y + 14
    << "\" text-anchor=\"end\" fill=\"#d03030\">dashed: target set Q</text>\n";
  if (std::any_of(h.panels.begin(), h.panels.end(), [](const HistogramPanel& p) { return !p.overlay.empty(); }))
    s << "<text x=\"" << left << "\" y=\"" << axis_y + 14 << "\">filled: " << svg_escape(h.fill_label)
      << "; <tspan fill=\"#e08020\">outline: " << svg_escape(h.overlay_label)
      << "</tspan> (each to its own peak)</text>\n";
  s << "</svg>\n";
  return s.str();
}

Histogram histogram_from_record(const nlohmann::json& record) {
  const nlohmann::json& snapshots = record.at("snapshots");
  // The start, evenly spaced epochs and the last epoch (at most 5), then the final model.
  std::vector<size_t> pick;
  const size_t n = snapshots.size();
  const size_t epochs = n >= 2 ? n - 1 : n;  // the final snapshot is the last entry
  const size_t want = std::min<size_t>(epochs, 5);
  for (size_t k = 0; k < want; ++k) {
    const size_t i = want == 1 ? 0 : k * (epochs - 1) / (want - 1);
    if (pick.empty() || pick.back() != i)
      pick.push_back(i);
  }
  if (n >= 2)
    pick.push_back(n - 1);
  Histogram h;
  h.title = record.at("title").get<std::string>();
  h.lo = record.at("lo").get<double>();
  h.hi = record.at("hi").get<double>();
  h.fill_label = record.value("fill_label", h.fill_label);
  h.overlay_label = record.value("overlay_label", h.overlay_label);
  for (size_t i : pick) {
    const nlohmann::json& s = snapshots[i];
    HistogramPanel p;
    const int64_t epoch = s.at("epoch").get<int64_t>();
    p.title = (epoch < 0 ? std::string("after training") : "epoch " + std::to_string(epoch)) + ": " +
              s.at("label").get<std::string>();
    p.counts = s.at("counts").get<std::vector<int64_t>>();
    p.levels = s.at("levels").get<std::vector<float>>();
    if (s.contains("counts_w"))
      p.overlay = s.at("counts_w").get<std::vector<int64_t>>();
    h.panels.push_back(std::move(p));
  }
  return h;
}

void write_latent_histogram_svg(const std::string& run_dir) {
  const std::filesystem::path dir(run_dir);
  const nlohmann::json record = read_json_file((dir / "latent_histogram.json").string(), "qat histogram");
  std::ofstream(dir / "latent_histogram.svg") << histogram_svg(histogram_from_record(record));
}

}  // namespace qnn::apps
