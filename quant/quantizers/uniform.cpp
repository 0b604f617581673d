#include "quant/quantizers/uniform.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace qnn::quant {

UniformScale uniform_scale_from_string(const std::string& name) {
  if (name == "mean")
    return UniformScale::mean;
  if (name == "max")
    return UniformScale::max;
  throw Error("uniform quantizer: got scale '" + name + "' (expected mean or max)");
}

Alphabet uniform_quantize(std::span<const float> u, int bits, UniformScale scale, bool midtread,
                          std::span<float> q_hat) {
  const char* op = "uniform_quantize";
  QNN_CHECK(!u.empty() && q_hat.size() == u.size(), op,
            "got " << u.size() << " values and " << q_hat.size() << " outputs (expected the same, >= 1)");
  QNN_CHECK(bits >= (midtread ? 2 : 1) && bits <= 8, op,
            "got bits " << bits << " (expected " << (midtread ? 2 : 1) << "..8; ternary is uniform_ternary)");
  double sum = 0.0;
  float max_abs = 0.0f;
  for (float x : u) {
    sum += std::fabs(static_cast<double>(x));
    max_abs = std::max(max_abs, std::fabs(x));
  }
  const float mean_abs = static_cast<float>(sum / static_cast<double>(u.size()));
  float q_max = scale == UniformScale::max ? max_abs : std::min(static_cast<float>(bits) * mean_abs, max_abs);
  q_max = std::max(q_max, FLT_MIN);
  // Midrise: int_shift = zero_point = 1/2; midtread: int_shift = 1, zero_point = 0.
  const float shift = midtread ? 1.0f : 0.5f, zero_point = midtread ? 0.0f : 0.5f;
  const float half = static_cast<float>(1 << (bits - 1));
  const float s = q_max / (half - shift);
  const float k_lo = midtread ? -(half - 1.0f) : -half, k_hi = half - 1.0f;
  for (size_t i = 0; i < u.size(); ++i) {
    const float c = std::clamp(u[i], -q_max, q_max);
    // round half to even (std::nearbyint, FE_TONEAREST), as torch.round; clamped to the integer
    // range so a round-off at +-q_max cannot leave the grid.
    const float k = std::clamp(std::nearbyint(c / s - zero_point), k_lo, k_hi);
    q_hat[i] = s * (k + zero_point);
  }
  std::vector<float> levels;
  for (float k = k_lo; k <= k_hi; k += 1.0f)
    levels.push_back(s * (k + zero_point));
  return Alphabet::from_levels(std::move(levels));
}

Alphabet uniform_ternary(std::span<const float> u, std::span<float> q_hat) {
  QNN_CHECK(!u.empty() && q_hat.size() == u.size(), "uniform_ternary",
            "got " << u.size() << " values and " << q_hat.size() << " outputs (expected the same, >= 1)");
  float max_abs = 0.0f;
  for (float x : u)
    max_abs = std::max(max_abs, std::fabs(x));
  const float s = std::max(max_abs, FLT_MIN) / 1.5f;
  for (size_t i = 0; i < u.size(); ++i)
    q_hat[i] = s * std::clamp(std::nearbyint(u[i] / s), -1.0f, 1.0f);
  return Alphabet::from_levels({-s, 0.0f, s});
}

}  // namespace qnn::quant
