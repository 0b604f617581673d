// `qnn reproduce gpfq-theory`: the single-layer check of GPFQ's error bound on Gaussian data (P1 (15)-(16),
// P2 (24)-(25)). Gaussian data X in R^{m x N0} (i.i.d. N(0, 1)), a generic neuron w with
// w_t ~ Unif[-q_max, q_max], q_max = 1, the midtread alphabet with K = 2^(b-1), delta = q_max / K
// fixed while N0 grows (the bound holds at fixed delta), and X-tilde = X (one layer, recursion P2 (10)). The theory:
//   E_rel = ||Xw - Xq||^2 / ||Xw||^2  <~  m delta^2 log N0 / N0       (slope ~ -1 on log-log axes)
// while round-to-nearest (MSQ, q = Q(w)) keeps E_rel about constant in N0. Writes gpfq_theory.csv and one SVG per bit
// width to the run folder and prints the fitted log-log slopes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "apps/commands.h"
#include "apps/svg_plot.h"
#include "core/autograd.h"
#include "core/error.h"
#include "core/generator.h"
#include "core/ops.h"
#include "quant/ptq/gpfq_layer.h"

namespace qnn::apps {

namespace {

struct TheoryOptions {
  std::string out_dir = "runs/gpfq-theory";
  int trials = 50;
  int draws = 5;  // independent X per point; trials / draws neurons share each X
  int min_log2_N = 6, max_log2_N = 14;
  std::vector<int> ms = {16, 64, 256};
  std::vector<int> bits = {3, 4};
  uint64_t seed = 0;
};

struct Point {
  int bits, m;
  int64_t N0;
  double gpfq_median, gpfq_p95, msq_median, msq_p95;
};

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t i = static_cast<size_t>(pos);
  const double f = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

// Squared relative error of every neuron (row of W and Q) on X.
std::vector<double> relative_errors(const Tensor& X, const Tensor& W, const Tensor& Q) {
  NoGradGuard ng;
  const std::vector<float> a = matmul(X, W.t()).to_vector<float>(), b = matmul(X, Q.t()).to_vector<float>();
  const int64_t m = X.size(0), n = W.size(0);
  std::vector<double> out(n);
  for (int64_t j = 0; j < n; ++j) {
    double e = 0, r = 0;
    for (int64_t i = 0; i < m; ++i) {
      const double d = static_cast<double>(a[i * n + j]) - b[i * n + j];
      e += d * d;
      r += static_cast<double>(a[i * n + j]) * a[i * n + j];
    }
    out[j] = e / r;
  }
  return out;
}

Tensor fill(int64_t rows, int64_t cols, Generator& gen, bool uniform) {
  Tensor t = Tensor::empty({rows, cols});
  float* p = t.data<float>();
  for (int64_t i = 0; i < rows * cols; ++i)
    p[i] = uniform ? 2.0f * gen.uniform() - 1.0f : gen.normal();
  return t;
}

Point run_point(int bits, int m, int64_t N0, const TheoryOptions& o, Generator& gen) {
  const int K = 1 << (bits - 1);
  const quant::Alphabet A = quant::Alphabet::midtread(K, 1.0f / static_cast<float>(K));  // q_max = 1
  std::vector<double> gpfq_err, msq_err;
  const int per_draw = std::max(1, o.trials / o.draws);
  for (int d = 0; d < o.draws; ++d) {
    const Tensor X = fill(m, N0, gen, false), W = fill(per_draw, N0, gen, true);
    const quant::GpfqLayerResult r = quant::gpfq_layer(W, X, X, {A});
    Tensor msq = W.clone();
    float* q = msq.data<float>();
    for (int64_t i = 0; i < msq.numel(); ++i)
      q[i] = A.nearest(q[i]);
    for (double e : relative_errors(X, W, r.Q))
      gpfq_err.push_back(e);
    for (double e : relative_errors(X, W, msq))
      msq_err.push_back(e);
  }
  return Point{
      bits, m, N0, quantile(gpfq_err, 0.5), quantile(gpfq_err, 0.95), quantile(msq_err, 0.5), quantile(msq_err, 0.95)};
}

// Least-squares slope of log10 y against log10 x.
double loglog_slope(const std::vector<double>& x, const std::vector<double>& y) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double n = static_cast<double>(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double a = std::log10(x[i]), b = std::log10(y[i]);
    sx += a;
    sy += b;
    sxx += a * a;
    sxy += a * b;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

void run_theory(const TheoryOptions& o) {
  QNN_CHECK(o.trials >= 1 && o.draws >= 1 && o.min_log2_N >= 1 && o.max_log2_N >= o.min_log2_N && o.max_log2_N <= 20,
            "reproduce gpfq-theory",
            "got trials " << o.trials << ", N0 = 2^" << o.min_log2_N << "..2^" << o.max_log2_N
                          << " (expected trials >= 1 and 1 <= min <= max <= 20)");
  std::filesystem::create_directories(o.out_dir);
  Generator gen(o.seed);
  std::vector<Point> points;
  std::printf("GPFQ single layer, Gaussian X, w ~ Unif[-1, 1], midtread delta = 1/2^(b-1); %d trials per point\n",
              o.trials);
  std::printf("%4s %5s %7s | %12s %12s | %12s %12s | %s\n", "b", "m", "N0", "GPFQ median", "GPFQ p95", "MSQ median",
              "MSQ p95", "GPFQ E*N0/(m log N0)");
  for (int b : o.bits)
    for (int m : o.ms)
      for (int e = o.min_log2_N; e <= o.max_log2_N; ++e) {
        const int64_t N0 = int64_t{1} << e;
        const Point p = run_point(b, m, N0, o, gen);
        points.push_back(p);
        std::printf("%4d %5d %7lld | %12.4e %12.4e | %12.4e %12.4e | %.4f\n", b, m, static_cast<long long>(N0),
                    p.gpfq_median, p.gpfq_p95, p.msq_median, p.msq_p95,
                    p.gpfq_median * static_cast<double>(N0) / (m * std::log(static_cast<double>(N0))));
        std::fflush(stdout);
      }
  const std::string csv = o.out_dir + "/gpfq_theory.csv";
  {
    std::ofstream out(csv);
    out << "bits,m,N0,gpfq_median,gpfq_p95,msq_median,msq_p95\n";
    for (const Point& p : points)
      out << p.bits << "," << p.m << "," << p.N0 << "," << p.gpfq_median << "," << p.gpfq_p95 << "," << p.msq_median
          << "," << p.msq_p95 << "\n";
  }
  std::printf(
      "\nfitted log-log slope of the median E_rel against N0 (points with N0 >= 4m; theory: about -1 for "
      "GPFQ, 0 for MSQ):\n");
  for (int b : o.bits) {
    std::vector<PlotSeries> series;
    for (size_t k = 0; k < o.ms.size(); ++k) {
      const int m = o.ms[k];
      PlotSeries g, q;
      g.label = "GPFQ m=" + std::to_string(m);
      q.label = "MSQ m=" + std::to_string(m);
      std::vector<double> fx, fy, mx, my;
      for (const Point& p : points) {
        if (p.bits != b || p.m != m)
          continue;
        g.x.push_back(static_cast<double>(p.N0));
        g.y.push_back(p.gpfq_median);
        q.x.push_back(static_cast<double>(p.N0));
        q.y.push_back(p.msq_median);
        if (p.N0 >= 4 * m) {
          fx.push_back(static_cast<double>(p.N0));
          fy.push_back(p.gpfq_median);
          my.push_back(p.msq_median);
        }
      }
      const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"};
      g.color = q.color = colors[k % 5];
      q.dashed = true;
      series.push_back(g);
      series.push_back(q);
      if (fx.size() >= 2)
        std::printf("  b = %d, m = %3d: GPFQ slope %.3f, MSQ slope %.3f  (%zu points)\n", b, m, loglog_slope(fx, fy),
                    loglog_slope(fx, my), fx.size());
    }
    PlotOptions po;
    po.title = "GPFQ vs MSQ, one layer, Gaussian data, b = " + std::to_string(b);
    po.x_label = "N0 (layer width)";
    po.y_label = "median ||Xw - Xq||^2 / ||Xw||^2";
    po.log_x = po.log_y = true;
    const std::string svg = o.out_dir + "/gpfq_theory_b" + std::to_string(b) + ".svg";
    write_line_plot_svg(svg, series, po);
    std::printf("wrote %s\n", svg.c_str());
  }
  std::printf("wrote %s\n", csv.c_str());
}

}  // namespace

void add_reproduce_gpfq_theory_command(CLI::App& reproduce) {
  auto o = std::make_shared<TheoryOptions>();
  auto* cmd = reproduce.add_subcommand(
      "gpfq-theory", "GPFQ's single-layer error against layer width N0 on Gaussian data (P2 (24)-(25)), with MSQ");
  cmd->add_option("--out-dir", o->out_dir, "Run folder for the CSV and the SVG plots")->capture_default_str();
  cmd->add_option("--trials", o->trials, "Neurons per point")->capture_default_str();
  cmd->add_option("--draws", o->draws, "Independent X per point")->capture_default_str();
  cmd->add_option("--min-log2-N", o->min_log2_N, "Smallest N0 = 2^this")->capture_default_str();
  cmd->add_option("--max-log2-N", o->max_log2_N, "Largest N0 = 2^this")->capture_default_str();
  cmd->add_option("--m", o->ms, "Rows of X (samples)")->capture_default_str()->delimiter(',');
  cmd->add_option("--bits", o->bits, "Bit widths b")->capture_default_str()->delimiter(',');
  cmd->add_option("--seed", o->seed, "Seed")->capture_default_str();
  cmd->callback([o] { run_theory(*o); });
}

}  // namespace qnn::apps
