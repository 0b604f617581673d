#pragma once
// Uniform quantizers of the PARQ authors' code (parq/quant/uniform.py; the paper itself uses only
// LSBQ). Each fits one group (a tensor or one row of dim 0) and returns q-hat and Q.
//   midrise (UnifQuantizer): 2^b levels s{+-1/2, ..., +-(2^(b-1) - 1/2)}, no zero,
//       s = q_max / (2^(b-1) - 1/2),  q-hat = s (round(clamp(u, -q_max, q_max)/s - 1/2) + 1/2)
//   midtread (MaxUnifQuantizer): 2^b - 1 levels s{0, +-1, ..., +-(2^(b-1) - 1)}, b >= 2,
//       s = q_max / (2^(b-1) - 1),    q-hat = s round(clamp(u, -q_max, q_max)/s)
//   scale "mean": q_max = min(b mean|u|, max|u|);  scale "max": q_max = max|u|   (floored at FLT_MIN)
// round is half-to-even as the PARQ code's torch.round, i.e. std::nearbyint in the default rounding
// mode (std::round, half away from zero, would differ at ties).
#include <span>
#include <string>

#include "quant/quantizers/alphabet.h"

namespace qnn::quant {

enum class UniformScale { mean, max };
UniformScale uniform_scale_from_string(const std::string& name);  // "mean" or "max"

Alphabet uniform_quantize(std::span<const float> u, int bits, UniformScale scale, bool midtread,
                          std::span<float> q_hat);

// TernaryUnifQuantizer: s = max|u| / 1.5, q-hat = s clamp(round(u/s), -1, 1), Q = {-s, 0, s}
// (threshold max|u|/3).
Alphabet uniform_ternary(std::span<const float> u, std::span<float> q_hat);

}  // namespace qnn::quant
