#pragma once
// LSBQ, least-squares binary quantization (Pouransari et al. 2020), the quantizer behind every
// table of PARQ (Jin et al., ICML 2025; Section 4, the Q^{t+1} = LSBQ(u^{t+1}, n) of Algorithm 1).
// An n-bit weight is w_i = sum_{j=1..n} v_j s_j(u_i) with v_1 >= ... >= v_n >= 0 and s_j in
// {-1, +1}; the target set is Q = {+-v_1 +- v_2 ... +- v_n}, |Q| = 2^n.
//
// Every quantizer here fits Q to one group of values (a whole tensor, or one output channel = one
// row of dim 0) and returns the quantizer's own quantization q-hat of the group plus Q as a
// quant::Alphabet (sorted, nearest-point rounding with ties to the lower level).
#include <span>

#include "quant/quantizers/alphabet.h"

namespace qnn::quant {

// Greedy ("foldable") LSBQ, b = 1..4 (the PARQ authors' code's default, parq/quant/lsbq.py):
//   r_0 = u;  v_j = mean|r_{j-1}|;  r_j = r_{j-1} - v_j bsign(r_{j-1})   with bsign(0) = +1
//   q-hat = sum_j v_j bsign(r_{j-1}).  For b = 1 this is XNOR-Net's v_1 = mean|u| (exact LSBQ).
// For b >= 3 q-hat may differ from the nearest element of Q, the projection of PARQ Eq. (2) (the
// sign patterns are out of value order when some v_j < sum_{l>j} v_l).
Alphabet lsbq_greedy(std::span<const float> u, int bits, std::span<float> q_hat);

// Ternary, the PARQ code's heuristic (quantize_simple_ternary, the one the paper's scripts run):
// v = mult * mean|u|, Q = {-v, 0, v}, q-hat the nearest point (thresholds +-v/2).
Alphabet lsbq_ternary_simple(std::span<const float> u, std::span<float> q_hat, float mult = 1.1f);

// Optimal ternary LSBQ (n = 2 with v_1 = v_2 = v): Q = {-2v, 0, 2v}, |u| > v -> 2v sgn(u), else 0,
// at the least-squares fixed point 2v = mean{|u_i| : |u_i| > v}. Found by enumerating the splits
// of sorted |u| (the correct math: the PARQ code's "optimal ternary" uses half this level).
Alphabet lsbq_optimal_ternary(std::span<const float> u, std::span<float> q_hat);

// Optimal 2-bit LSBQ: for a split of sorted |u| into "below" and "above",
//   v_1 = (E_above + E_below)/2, v_2 = (E_above - E_below)/2,
// feasible when |u|_(i) <= v_1 < |u|_(i+1); the feasible split with the least squared error wins.
// Q = {+-(v_1 + v_2), +-(v_1 - v_2)} = {+-E_above, +-E_below}.
Alphabet lsbq_optimal_2bit(std::span<const float> u, std::span<float> q_hat);

}  // namespace qnn::quant
