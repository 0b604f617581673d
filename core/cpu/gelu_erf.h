#pragma once
// erf for GELU, branch-free so the GELU loops vectorize (libm's erff is a call per element and was
// ~15% of a DeiT-Ti training step). Abramowitz and Stegun, Handbook of Mathematical Functions,
// 7.1.26: for x >= 0, erf(x) = 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) exp(-x^2) with
// t = 1 / (1 + p x), absolute error <= 1.5e-7; erf is odd. GELU adds erf to 1, so an absolute
// error is what matters there (a relative one of ~1e-7 on x Phi(x)); do not use it where erf(x)
// itself must be accurate relative to a tiny value.
#include "core/cpu/softmax_kernels.h"

namespace qnn::cpu {

inline float erf_for_gelu(float x) {
  constexpr float p = 0.3275911f, a1 = 0.254829592f, a2 = -0.284496736f, a3 = 1.421413741f, a4 = -1.453152027f,
                  a5 = 1.061405429f;
  const float ax = x < 0.0f ? -x : x;
  const float t = 1.0f / (1.0f + p * ax);
  const float poly = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t;
  const float y = 1.0f - poly * fast_exp(-ax * ax);
  return x < 0.0f ? -y : y;
}

}  // namespace qnn::cpu
