#pragma once
// The step size of a layer's alphabet, as the GPFQ papers fit it: the radius of the alphabet is
// tied to the AVERAGE over neurons of each neuron's largest |weight|, so that a few outliers do
// not stretch the grid (P2 (32), P1 (18)-(19)):
//   r-bar = (1/N_i) sum_j ||W_j||_inf                     (W_j: neuron j = row j of W)
//   R     = C r-bar
//   P2 (31)-(32), midtread:  K = 2^(b-1), delta = R / 2^(b-1) = C/(2^(b-1) N_i) sum_j ||W_j||_inf
//   P1 (17)-(19), midrise+0: K = 2^(b-1), delta = 2R / (2^b - 1)
// Weights beyond R are clipped by the rounding (P2 App. C justifies it). Per-channel scales (our
// option, not the papers'): one alphabet per neuron with R_j = C ||W_j||_inf.
#include <vector>

#include "core/tensor.h"
#include "quant/quantizers/alphabet.h"

namespace qnn::quant {

struct AlphabetSpec {
  AlphabetFamily family = AlphabetFamily::midtread;
  int bits = 4;  // ignored for ternary and binary
  double C = 1.0;
  bool per_channel = false;
};

// ||W_j||_inf for every row j of W viewed as [W.size(0), rest].
std::vector<float> row_max_abs(const Tensor& W);
// r-bar = mean_j ||W_j||_inf.
float mean_row_max_abs(const Tensor& W);

// The alphabet(s) of weight W under `spec`: one (per layer) or one per row (per channel). Throws
// qnn::Error for C <= 0, bits outside 1..16, or an all-zero weight (no scale to fit).
std::vector<Alphabet> fit_alphabets(const Tensor& W, const AlphabetSpec& spec);

}  // namespace qnn::quant
