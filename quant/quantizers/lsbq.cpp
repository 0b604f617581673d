#include "quant/quantizers/lsbq.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"

namespace qnn::quant {

namespace {

void check_group(std::span<const float> u, std::span<float> q_hat, const char* op) {
  QNN_CHECK(!u.empty(), op, "got an empty group (expected at least one value)");
  QNN_CHECK(q_hat.size() == u.size(), op, "q_hat has " << q_hat.size() << " values (expected " << u.size() << ")");
}

// bsign: the sign with bsign(0) = +1 (the PARQ code's binary_sign).
inline double bsign(double x) { return x >= 0.0 ? 1.0 : -1.0; }

double mean_abs(std::span<const float> u) {
  double s = 0.0;
  for (float x : u)
    s += std::fabs(static_cast<double>(x));
  return s / static_cast<double>(u.size());
}

// Sorted |u| with prefix sums of values and squares (index i: sum of the first i).
struct SortedAbs {
  std::vector<double> a, S, SS;
  explicit SortedAbs(std::span<const float> u) : a(u.size()), S(u.size() + 1, 0.0), SS(u.size() + 1, 0.0) {
    for (size_t i = 0; i < u.size(); ++i)
      a[i] = std::fabs(static_cast<double>(u[i]));
    std::sort(a.begin(), a.end());
    for (size_t i = 0; i < a.size(); ++i) {
      S[i + 1] = S[i] + a[i];
      SS[i + 1] = SS[i] + a[i] * a[i];
    }
  }
  // Squared error of fitting a[lo..hi) by its mean.
  double sse(size_t lo, size_t hi) const {
    if (hi <= lo)
      return 0.0;
    const double n = static_cast<double>(hi - lo), s = S[hi] - S[lo];
    return std::max(0.0, (SS[hi] - SS[lo]) - s * s / n);
  }
  double mean(size_t lo, size_t hi) const { return hi > lo ? (S[hi] - S[lo]) / static_cast<double>(hi - lo) : 0.0; }
};

}  // namespace

Alphabet lsbq_greedy(std::span<const float> u, int bits, std::span<float> q_hat) {
  check_group(u, q_hat, "lsbq_greedy");
  QNN_CHECK(bits >= 1 && bits <= 4, "lsbq_greedy", "got bits " << bits << " (expected 1..4)");
  const size_t d = u.size();
  // r_0 = u; v_j = mean|r_{j-1}|; r_j = r_{j-1} - v_j bsign(r_{j-1})   (the PARQ code's greedy LSBQ)
  std::vector<double> r(u.begin(), u.end());
  std::vector<float> v(bits);
  std::vector<std::vector<signed char>> s(bits, std::vector<signed char>(d));
  for (int j = 0; j < bits; ++j) {
    double m = 0.0;
    for (double x : r)
      m += std::fabs(x);
    v[j] = static_cast<float>(m / static_cast<double>(d));
    for (size_t i = 0; i < d; ++i) {
      const double sign = bsign(r[i]);
      s[j][i] = static_cast<signed char>(sign);
      r[i] -= static_cast<double>(v[j]) * sign;
    }
  }
  // q-hat = sum_j v_j s_j(u), summed in float in the order j = 1..n, the same order as the levels
  // below, so every q-hat value is bit-for-bit one of the levels of Q.
  for (size_t i = 0; i < d; ++i) {
    float acc = 0.0f;
    for (int j = 0; j < bits; ++j)
      acc += static_cast<float>(s[j][i]) * v[j];
    q_hat[i] = acc;
  }
  // Q = { sum_j sigma_j v_j : sigma in {-1, +1}^n }
  std::vector<float> levels;
  for (int pattern = 0; pattern < (1 << bits); ++pattern) {
    float acc = 0.0f;
    for (int j = 0; j < bits; ++j)
      acc += ((pattern >> j) & 1 ? 1.0f : -1.0f) * v[j];
    levels.push_back(acc);
  }
  return Alphabet::from_levels(std::move(levels));
}

Alphabet lsbq_ternary_simple(std::span<const float> u, std::span<float> q_hat, float mult) {
  check_group(u, q_hat, "lsbq_ternary_simple");
  QNN_CHECK(mult > 0.0f, "lsbq_ternary_simple", "got multiplier " << mult << " (expected > 0)");
  // v = 1.1 mean|u|, Q = {-v, 0, v}, nearest point (thresholds +-v/2).
  const float v = mult * static_cast<float>(mean_abs(u));
  const Alphabet Q = Alphabet::from_levels({-v, 0.0f, v});
  for (size_t i = 0; i < u.size(); ++i)
    q_hat[i] = Q.nearest(u[i]);
  return Q;
}

Alphabet lsbq_optimal_ternary(std::span<const float> u, std::span<float> q_hat) {
  check_group(u, q_hat, "lsbq_optimal_ternary");
  const SortedAbs s(u);
  const size_t d = s.a.size();
  // k values above the threshold v (the k largest |u|), level L = 2v = their mean; the rest go to
  // 0. Feasible: a_(d-k-1) <= v < a_(d-k). Error: sum of the below squares + sse of the above.
  double best_err = s.SS[d], best_L = 0.0;  // k = 0: everything to 0
  bool found_feasible = false;
  double fallback_err = best_err, fallback_L = 0.0;
  for (size_t k = 1; k <= d; ++k) {
    const size_t lo = d - k;
    const double L = s.mean(lo, d), v = L / 2.0;
    const double err = s.SS[lo] + s.sse(lo, d);
    if (err < fallback_err) {
      fallback_err = err;
      fallback_L = L;
    }
    const bool feasible = (lo == 0 || s.a[lo - 1] <= v) && v < s.a[lo];
    if (feasible && (!found_feasible || err < best_err)) {
      best_err = err;
      best_L = L;
      found_feasible = true;
    }
  }
  if (!found_feasible)  // only for degenerate groups (all zero)
    best_L = fallback_L;
  const float L = static_cast<float>(best_L);
  const double v = best_L / 2.0;
  for (size_t i = 0; i < u.size(); ++i)
    q_hat[i] = std::fabs(static_cast<double>(u[i])) > v ? (u[i] >= 0.0f ? L : -L) : 0.0f;
  return Alphabet::from_levels({-L, 0.0f, L});
}

Alphabet lsbq_optimal_2bit(std::span<const float> u, std::span<float> q_hat) {
  check_group(u, q_hat, "lsbq_optimal_2bit");
  const SortedAbs s(u);
  const size_t d = s.a.size();
  // i = number of values below: E_below = mean a[0..i), E_above = mean a[i..d).
  //   i = 0: the degenerate candidate v_1 = v_2 = E_above/2 (levels +-E_above and 0), feasible
  //          when v_1 < min|u|;  i = d: v_2 = 0 (two levels), feasible only for constant |u|.
  double best_err = std::numeric_limits<double>::infinity(), best_above = 0.0, best_below = 0.0;
  double fb_err = best_err, fb_above = 0.0, fb_below = 0.0;
  for (size_t i = 0; i <= d; ++i) {
    double Ea = s.mean(i, d), Eb = s.mean(0, i);
    if (i == d)
      Ea = Eb;
    const double v1 = (Ea + Eb) / 2.0;
    const double err = s.sse(0, i) + s.sse(i, d);
    const bool feasible = (i == 0 || s.a[i - 1] <= v1) && (i == d || v1 < s.a[i]) && Ea >= Eb;
    if (err < fb_err) {
      fb_err = err;
      fb_above = Ea;
      fb_below = Eb;
    }
    if (feasible && err < best_err) {
      best_err = err;
      best_above = Ea;
      best_below = Eb;
    }
  }
  if (!std::isfinite(best_err)) {
    best_above = fb_above;
    best_below = fb_below;
  }
  const float hi = static_cast<float>(best_above), lo = static_cast<float>(best_below);
  const double v1 = (best_above + best_below) / 2.0;
  for (size_t i = 0; i < u.size(); ++i) {
    const float level = std::fabs(static_cast<double>(u[i])) > v1 ? hi : lo;
    q_hat[i] = u[i] >= 0.0f ? level : -level;
  }
  return Alphabet::from_levels({-hi, -lo, lo, hi});
}

}  // namespace qnn::quant
