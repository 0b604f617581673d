#pragma once
// The maps M_t of the QAT methods of PARQ (Jin et al., ICML 2025; Sections 1-4). All three methods
// share the skeleton
//   u^{t+1} = u^t - eta_t g^t,   g^t = grad f(w^t, z^t)          (Eq. (3) / (11))
//   w^{t+1} = M_t(u^{t+1}; Q^{t+1})
// and differ only in M_t:
//   hard (STE / BinaryConnect, Eq. (2)-(3)):  w = Q(u), the nearest point of Q
//   BinaryRelax (Yin et al. 2018, Fig. 9(b)): w = (1 - theta) u + theta Q(u), theta linear 0 -> 1
//   PARQ (Algorithm 1, Fig. 9(a)):            slope rho_t = 1/inv through each interval midpoint,
//                                              clamped to [Q_j, Q_{j+1}]; inv follows a sigmoid 1 -> 0
// plus the exact proximal map of the PAR regularizer, Eq. (6)-(7), used by AProx (Eq. (11)) for the
// theory checks on convex toys.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "quant/quantizers/alphabet.h"

namespace qnn::quant {

// ---- the maps (one group: values u, its target set Q) ----

// Hard quantization: w_i = nearest point of Q (ties to the lower level). Fig. 1.
void hard_quantize(std::span<const float> u, const Alphabet& Q, std::span<float> w);

// BinaryRelax (Fig. 9(b); theta linear in t as in the PARQ code's ProxBinaryRelax):
// w = (1 - theta) u + theta Q(u), not clipped outside [Q_0, Q_{K-1}].
void binaryrelax_map(std::span<const float> u, const Alphabet& Q, float theta, std::span<float> w);

// PARQ's map (Algorithm 1, Fig. 9(a); the PARQ code's ProxPARQ.apply_), inv = rho^{-1} in (0, 1]:
//   j = #{k : Q[k] < x};  lo = Q[max(j-1, 0)], hi = Q[min(j, K-1)];  c = (lo + hi)/2
//   w = clamp(c + (x - c)/inv, lo, hi)
// inv = 1 is the identity clipped to [Q_0, Q_{K-1}]; inv -> 0 tends to the nearest-point staircase.
void parq_map(std::span<const float> u, const Alphabet& Q, float inv, std::span<float> w);

// ---- schedules over the global step counter t (warmup steps included, as in the PARQ code) ----

// The sigmoid inverse-slope schedule rho_t^{-1} of Algorithm 1 (Fig. 10, bottom), as the PARQ
// code's normalized_mirror_sigmoid:
//   t < t_s: 1;  t >= t_e: hard (returned as 0);  else f = (t - t_s)/(t_e - t_s),
//   sigma = 1/(1 + exp(s (f - c))), S1 = 1/(1 + exp(-s/2)), S2 = 1/(1 + exp(s/2)),
//   inv = max(FLT_MIN, (sigma - S2)/(S1 - S2)).
double parq_inv_slope(int64_t t, int64_t anneal_start, int64_t anneal_end, double steepness, double center = 0.5);
// BinaryRelax's theta = (t - t_s)/(t_e - t_s) clamped to [0, 1] (1 = hard from t_e on).
double binaryrelax_theta(int64_t t, int64_t anneal_start, int64_t anneal_end);

// A map with its schedule, as the QAT optimizer applies it at step t.
struct ProxMap {
  enum class Kind { hard, binaryrelax, parq };
  Kind kind = Kind::parq;
  int64_t anneal_start = 0, anneal_end = 0;  // in steps
  double steepness = 100.0, center = 0.5;    // PARQ's sigmoid

  static Kind kind_from_string(const std::string& name);  // "ste"/"hard", "binaryrelax", "parq"
  static std::string to_string(Kind kind);
  // Whether the map at step t is exactly the hard projection (STE always; the others from t_e on).
  bool is_hard(int64_t t) const;
  // The annealing value at step t: PARQ's inv slope, BinaryRelax's theta (STE: 0).
  double value(int64_t t) const;
  void apply(std::span<const float> u, const Alphabet& Q, int64_t t, std::span<float> w) const;
};

// ---- the PAR regularizer and its exact proximal map ----

// Psi of Eq. (6) for Q = {0, +-q_1, ..., +-q_m}: q = [0, q_1, ..., q_m] (ascending), slopes
// a = [a_0, ..., a_{m-1}] (0 <= a_0 < ... ; a_m = +infinity). a_0 = 0 removes 0 from Q.
struct PAR {
  std::vector<double> q, a;
  void check() const;
  // Psi(w) = max_k { a_k (|w| - q_k) + b_k }, b_0 = 0, b_k = b_{k-1} + a_{k-1}(q_k - q_{k-1});
  // +infinity for |w| > q_m (the box constraint inside Psi).
  double value(double w) const;
  // The subdifferential of Psi at w: [lo, hi] (hi may be +infinity, lo -infinity).
  void subdifferential(double w, double& lo, double& hi) const;
};

// prox_{c Psi}(u) = argmin_w { c Psi(w) + (w - u)^2 / 2 }, closed form Eq. (7) with every a_k
// scaled by c (c = eta_t lambda in Eq. (8), gamma_t lambda in Eq. (11)): flat pieces sgn(u) q_k on
// |u| in [c a_{k-1} + q_k, c a_k + q_k], slope-1 pieces u - sgn(u) c a_k on |u| in
// [c a_k + q_k, c a_k + q_{k+1}].
double prox_par(double u, const PAR& par, double c);

// AProx, Eq. (11): u^{t+1} = u^t - eta_t g^t;  gamma_t = sum_{s<=t} eta_s;
// w^{t+1} = prox_{gamma_t lambda Psi}(u^{t+1}). One state per coordinate vector.
struct AProx {
  PAR par;
  double lambda = 1.0;
  double gamma = 0.0;     // gamma_t, the aggregate step size
  std::vector<double> u;  // latent, starts at w^0 (Eq. (13): u^1 = w^0)
  // One step with the gradient g taken at the current w; writes w^{t+1}.
  void step(std::span<const double> g, double eta, std::span<double> w);
};

}  // namespace qnn::quant
