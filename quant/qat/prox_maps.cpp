#include "quant/qat/prox_maps.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace qnn::quant {

namespace {

void check_sizes(std::span<const float> u, std::span<float> w, const char* op) {
  QNN_CHECK(u.size() == w.size(), op, "got " << u.size() << " inputs and " << w.size() << " outputs (expected equal)");
}

}  // namespace

void hard_quantize(std::span<const float> u, const Alphabet& Q, std::span<float> w) {
  check_sizes(u, w, "hard_quantize");
  for (size_t i = 0; i < u.size(); ++i)
    w[i] = Q.nearest(u[i]);
}

void binaryrelax_map(std::span<const float> u, const Alphabet& Q, float theta, std::span<float> w) {
  check_sizes(u, w, "binaryrelax_map");
  QNN_CHECK(theta >= 0.0f && theta <= 1.0f, "binaryrelax_map", "got theta " << theta << " (expected 0..1)");
  // Yin et al. 2018's Moreau-envelope prox (u + lambda Q(u))/(1 + lambda), with theta = lambda/(1 + lambda).
  for (size_t i = 0; i < u.size(); ++i)
    w[i] = (1.0f - theta) * u[i] + theta * Q.nearest(u[i]);
}

void parq_map(std::span<const float> u, const Alphabet& Q, float inv, std::span<float> w) {
  check_sizes(u, w, "parq_map");
  QNN_CHECK(inv > 0.0f && inv <= 1.0f, "parq_map", "got inverse slope " << inv << " (expected (0, 1])");
  const std::vector<float>& q = Q.levels();
  const int K = Q.size();
  for (size_t i = 0; i < u.size(); ++i) {
    const float x = u[i];
    // j = #{k : Q[k] < x}: torch.bucketize(x, Q, right=False), so Q[j-1] < x <= Q[j].
    const int j = static_cast<int>(std::lower_bound(q.begin(), q.end(), x) - q.begin());
    const float lo = q[std::max(j - 1, 0)], hi = q[std::min(j, K - 1)];
    const float c = (lo + hi) / 2.0f;
    // Slope rho = 1/inv through the midpoint c, flat next to each target (Fig. 9(a)).
    w[i] = std::clamp(c + (x - c) / inv, lo, hi);
  }
}

double parq_inv_slope(int64_t t, int64_t anneal_start, int64_t anneal_end, double steepness, double center) {
  if (t < anneal_start)
    return 1.0;
  if (t >= anneal_end)
    return 0.0;  // hard quantization from t_e on
  const double f = static_cast<double>(t - anneal_start) / static_cast<double>(anneal_end - anneal_start);
  const double sigma = 1.0 / (1.0 + std::exp(steepness * (f - center)));
  const double S1 = 1.0 / (1.0 + std::exp(-steepness / 2.0)), S2 = 1.0 / (1.0 + std::exp(steepness / 2.0));
  return std::max(static_cast<double>(FLT_MIN), (sigma - S2) / (S1 - S2));
}

double binaryrelax_theta(int64_t t, int64_t anneal_start, int64_t anneal_end) {
  if (t < anneal_start)
    return 0.0;
  if (t >= anneal_end)
    return 1.0;
  return static_cast<double>(t - anneal_start) / static_cast<double>(anneal_end - anneal_start);
}

ProxMap::Kind ProxMap::kind_from_string(const std::string& name) {
  if (name == "ste" || name == "hard" || name == "binaryconnect")
    return Kind::hard;
  if (name == "binaryrelax")
    return Kind::binaryrelax;
  if (name == "parq")
    return Kind::parq;
  throw Error("QAT map: got '" + name + "' (expected ste, binaryrelax or parq)");
}

std::string ProxMap::to_string(Kind kind) {
  switch (kind) {
    case Kind::hard:
      return "ste";
    case Kind::binaryrelax:
      return "binaryrelax";
    case Kind::parq:
      return "parq";
  }
  return "?";
}

bool ProxMap::is_hard(int64_t t) const { return kind == Kind::hard || t >= anneal_end; }

double ProxMap::value(int64_t t) const {
  switch (kind) {
    case Kind::hard:
      return 0.0;
    case Kind::binaryrelax:
      return binaryrelax_theta(t, anneal_start, anneal_end);
    case Kind::parq:
      return parq_inv_slope(t, anneal_start, anneal_end, steepness, center);
  }
  return 0.0;
}

void ProxMap::apply(std::span<const float> u, const Alphabet& Q, int64_t t, std::span<float> w) const {
  // At t >= t_e PARQ switches to the true nearest point: with inv ~ 0 an x exactly at a midpoint
  // would map to the midpoint, which is not in Q (the PARQ code switches the same way).
  if (is_hard(t))
    hard_quantize(u, Q, w);
  else if (kind == Kind::binaryrelax)
    binaryrelax_map(u, Q, static_cast<float>(value(t)), w);
  else
    parq_map(u, Q, static_cast<float>(value(t)), w);
}

// ---- PAR, Eq. (6)-(7) ----

void PAR::check() const {
  QNN_CHECK(q.size() >= 2 && q[0] == 0.0 && a.size() == q.size() - 1, "PAR",
            "got " << q.size() << " targets and " << a.size() << " slopes (expected q = [0, q_1..q_m], m slopes)");
  for (size_t k = 1; k < q.size(); ++k)
    QNN_CHECK(q[k] > q[k - 1], "PAR", "targets not increasing at " << k);
  QNN_CHECK(a[0] >= 0.0, "PAR", "got a_0 " << a[0] << " (expected >= 0)");
  for (size_t k = 1; k < a.size(); ++k)
    QNN_CHECK(a[k] > a[k - 1], "PAR", "slopes not increasing at " << k);
}

double PAR::value(double w) const {
  const size_t m = q.size() - 1;
  const double x = std::fabs(w);
  if (x > q[m])
    return std::numeric_limits<double>::infinity();  // a_m = +infinity: the box |w| <= q_m
  // On q_k <= |w| <= q_{k+1}: Psi = b_k + a_k (|w| - q_k), b_0 = 0, b_k = b_{k-1} + a_{k-1}(q_k - q_{k-1}).
  double b = 0.0;
  for (size_t k = 0; k < m; ++k) {
    if (x <= q[k + 1])
      return b + a[k] * (x - q[k]);
    b += a[k] * (q[k + 1] - q[k]);
  }
  return b;
}

void PAR::subdifferential(double w, double& lo, double& hi) const {
  const size_t m = q.size() - 1;
  const double x = std::fabs(w), inf = std::numeric_limits<double>::infinity();
  double l = 0.0, h = 0.0;  // of |w|, for w > 0
  if (w == 0.0) {
    lo = -a[0];
    hi = a[0];
    return;
  }
  if (x > q[m]) {
    lo = hi = std::numeric_limits<double>::quiet_NaN();  // outside the domain
    return;
  }
  for (size_t k = 0; k < m; ++k) {
    if (x > q[k] && x < q[k + 1]) {
      l = h = a[k];
      break;
    }
    if (x == q[k + 1]) {  // a kink (or the box edge at k + 1 = m)
      l = a[k];
      h = k + 1 < m ? a[k + 1] : inf;
      break;
    }
  }
  if (w > 0.0) {
    lo = l;
    hi = h;
  } else {
    lo = -h;
    hi = -l;
  }
}

double prox_par(double u, const PAR& par, double c) {
  const std::vector<double>& q = par.q;
  const std::vector<double>& a = par.a;
  const size_t m = q.size() - 1;
  const double x = std::fabs(u), s = u >= 0.0 ? 1.0 : -1.0;
  for (size_t k = 0; k <= m; ++k) {
    const double lo = c * (k >= 1 ? a[k - 1] : 0.0) + q[k];  // a_{-1} = 0
    const double hi = k < m ? c * a[k] + q[k] : std::numeric_limits<double>::infinity();
    if (lo <= x && x <= hi)
      return s * q[k];  // flat piece at q_k
    if (k < m && hi <= x && x <= c * a[k] + q[k + 1])
      return s * (x - c * a[k]);  // slope-1 piece
  }
  return s * q[m];  // unreachable: the pieces tile [0, infinity)
}

void AProx::step(std::span<const double> g, double eta, std::span<double> w) {
  QNN_CHECK(g.size() == u.size() && w.size() == u.size(), "AProx::step",
            "got " << g.size() << " gradients for " << u.size() << " coordinates");
  gamma += eta;  // gamma_t = sum_{s <= t} eta_s
  for (size_t i = 0; i < u.size(); ++i) {
    u[i] -= eta * g[i];                          // u^{t+1} = u^t - eta_t g^t  (Eq. (11))
    w[i] = prox_par(u[i], par, gamma * lambda);  // w^{t+1} = prox_{gamma_t lambda Psi}(u^{t+1})
  }
}

}  // namespace qnn::quant
