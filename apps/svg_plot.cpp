#include "apps/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace qnn::apps {

namespace {

const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

struct Axis {
  bool log;
  double lo, hi;  // in transformed units (log10 when log)
  double map(double v) const { return log ? std::log10(v) : v; }
};

bool usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

Axis fit_axis(const std::vector<PlotSeries>& series, bool log, bool is_x) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      const double v = is_x ? s.x[i] : s.y[i];
      const double other = is_x ? s.y[i] : s.x[i];
      if (!usable(v, log) || !std::isfinite(other))
        continue;
      lo = std::min(lo, log ? std::log10(v) : v);
      hi = std::max(hi, log ? std::log10(v) : v);
    }
  if (!std::isfinite(lo))
    lo = 0, hi = 1;
  if (log) {
    lo = std::floor(lo);
    hi = std::ceil(hi);
  }
  if (hi - lo < 1e-12)
    hi = lo + 1;
  if (!log) {
    const double pad = 0.05 * (hi - lo);
    lo -= pad;
    hi += pad;
  }
  return Axis{log, lo, hi};
}

std::string tick_label(double t, bool log) {
  char buf[32];
  if (log)
    std::snprintf(buf, sizeof buf, "1e%g", t);
  else
    std::snprintf(buf, sizeof buf, "%g", t);
  return buf;
}

std::vector<double> ticks(const Axis& a) {
  std::vector<double> out;
  if (a.log) {
    const double step = std::max(1.0, std::ceil((a.hi - a.lo) / 8));
    for (double t = a.lo; t <= a.hi + 1e-9; t += step)
      out.push_back(t);
    return out;
  }
  const double raw = (a.hi - a.lo) / 6, mag = std::pow(10, std::floor(std::log10(raw)));
  const double step = raw / mag < 2 ? 2 * mag : raw / mag < 5 ? 5 * mag : 10 * mag;
  for (double t = std::ceil(a.lo / step) * step; t <= a.hi + 1e-9; t += step)
    out.push_back(std::fabs(t) < 1e-12 ? 0 : t);
  return out;
}

}  // namespace

std::string svg_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

void write_line_plot_svg(const std::string& path, const std::vector<PlotSeries>& series, const PlotOptions& o) {
  const Axis ax = fit_axis(series, o.log_x, true), ay = fit_axis(series, o.log_y, false);
  const double left = 80, right = 200, top = 40, bottom = 60;
  const double pw = o.width - left - right, ph = o.height - top - bottom;
  auto px = [&](double v) { return left + (ax.map(v) - ax.lo) / (ax.hi - ax.lo) * pw; };
  auto py = [&](double v) { return top + ph - (ay.map(v) - ay.lo) / (ay.hi - ay.lo) * ph; };
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << o.width << "\" height=\"" << o.height
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << left + pw / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" << svg_escape(o.title)
      << "</text>\n";
  svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
      << "\" fill=\"none\" stroke=\"black\"/>\n";
  for (double t : ticks(ax)) {
    const double x = left + (t - ax.lo) / (ax.hi - ax.lo) * pw;
    svg << "<line x1=\"" << x << "\" y1=\"" << top << "\" x2=\"" << x << "\" y2=\"" << top + ph
        << "\" stroke=\"#ddd\"/><text x=\"" << x << "\" y=\"" << top + ph + 16 << "\" text-anchor=\"middle\">"
        << tick_label(t, ax.log) << "</text>\n";
  }
  for (double t : ticks(ay)) {
    const double y = top + ph - (t - ay.lo) / (ay.hi - ay.lo) * ph;
    svg << "<line x1=\"" << left << "\" y1=\"" << y << "\" x2=\"" << left + pw << "\" y2=\"" << y
        << "\" stroke=\"#ddd\"/><text x=\"" << left - 6 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">"
        << tick_label(t, ay.log) << "</text>\n";
  }
  svg << "<text x=\"" << left + pw / 2 << "\" y=\"" << o.height - 18 << "\" text-anchor=\"middle\">"
      << svg_escape(o.x_label) << "</text>\n";
  svg << "<text transform=\"translate(18," << top + ph / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
      << svg_escape(o.y_label) << "</text>\n";
  for (size_t k = 0; k < series.size(); ++k) {
    const PlotSeries& s = series[k];
    const std::string color = s.color.empty() ? kPalette[k % 8] : s.color;
    std::ostringstream points;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (usable(s.x[i], o.log_x) && usable(s.y[i], o.log_y))
        points << px(s.x[i]) << "," << py(s.y[i]) << " ";
    svg << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.8\""
        << (s.dashed ? " stroke-dasharray=\"6,4\"" : "") << " points=\"" << points.str() << "\"/>\n";
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (usable(s.x[i], o.log_x) && usable(s.y[i], o.log_y))
        svg << "<circle cx=\"" << px(s.x[i]) << "\" cy=\"" << py(s.y[i]) << "\" r=\"2.5\" fill=\"" << color << "\"/>\n";
    const double ly = top + 14 + 18 * static_cast<double>(k);
    svg << "<line x1=\"" << left + pw + 12 << "\" y1=\"" << ly << "\" x2=\"" << left + pw + 36 << "\" y2=\"" << ly
        << "\" stroke=\"" << color << "\" stroke-width=\"2\"" << (s.dashed ? " stroke-dasharray=\"6,4\"" : "")
        << "/><text x=\"" << left + pw + 42 << "\" y=\"" << ly + 4 << "\">" << svg_escape(s.label) << "</text>\n";
  }
  svg << "</svg>\n";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    QNN_CHECK(out.good(), "write_line_plot_svg", "cannot write " << tmp);
    out << svg.str();
    QNN_CHECK(out.good(), "write_line_plot_svg", "failed writing " << tmp);
  }
  QNN_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "write_line_plot_svg",
            "cannot rename " << tmp << " to " << path);
}

}  // namespace qnn::apps
