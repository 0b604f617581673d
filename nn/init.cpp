#include "nn/init.h"

#include <cmath>
#include <functional>
#include <vector>

#include "core/autograd.h"
#include "core/creation.h"
#include "core/error.h"

namespace qnn::nn::init {
namespace {

// Draws every element in row-major order into a contiguous float32 buffer, then writes it into t
// (which may be a strided view). Draws run sequentially, so values depend only on the seed.
void fill(const Tensor& t, const char* op, const std::function<double()>& draw) {
  QNN_CHECK(t.defined(), op, "got an undefined tensor (expected a float32 tensor)");
  QNN_CHECK(t.dtype() == DType::Float32, op, "got a " << t.dtype() << " tensor (expected float32)");
  NoGradGuard no_grad;
  Tensor values = Tensor::empty(t.shape());
  float* p = values.data<float>();
  for (int64_t i = 0; i < values.numel(); ++i)
    p[i] = static_cast<float>(draw());
  copy_(t, values.to(t.device()));
}

double uniform01(Generator& gen) { return static_cast<double>(gen.next_u64() >> 11) * 0x1.0p-53; }  // [0, 1)

double fan(const Tensor& t, FanMode mode, const char* op) {
  const auto [fan_in, fan_out] = fan_in_and_fan_out(t);
  const int64_t f = mode == FanMode::FanIn ? fan_in : fan_out;
  QNN_CHECK(f > 0, op, "got shape " << shape_str(t.shape()) << " with fan 0 (expected non-empty dims)");
  return static_cast<double>(f);
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Phi^-1(p) for Phi(lo) <= p <= Phi(hi): Newton on Phi(x) = p, falling back to bisection whenever
// a step would leave the bracket [lo, hi], so it converges for any p.
double normal_quantile(double p, double lo, double hi) {
  double x = std::clamp(0.0, lo, hi);
  for (int iter = 0; iter < 200; ++iter) {
    const double f = normal_cdf(x) - p;
    if (f == 0.0)
      return x;
    (f < 0.0 ? lo : hi) = x;
    const double density = std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
    double next = density > 0.0 ? x - f / density : 0.5 * (lo + hi);
    if (!(next > lo && next < hi))
      next = 0.5 * (lo + hi);
    if (std::abs(next - x) <= 1e-14 * (1.0 + std::abs(x)))
      return next;
    x = next;
  }
  return x;
}

}  // namespace

std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& t) {
  QNN_CHECK(t.defined() && t.dim() >= 2, "fan_in_and_fan_out",
            "got shape " << (t.defined() ? shape_str(t.shape()) : "undefined") << " (expected at least 2 dims)");
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d)
    receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

double calculate_gain(const std::string& nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "conv1d" || nonlinearity == "conv2d" || nonlinearity == "conv3d" ||
      nonlinearity == "sigmoid")
    return 1.0;
  if (nonlinearity == "tanh")
    return 5.0 / 3.0;
  if (nonlinearity == "relu")
    return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu")
    return std::sqrt(2.0 / (1.0 + param * param));
  if (nonlinearity == "selu")
    return 3.0 / 4.0;
  QNN_CHECK(false, "calculate_gain",
            "got '" << nonlinearity << "' (expected linear, conv1d/2d/3d, sigmoid, tanh, relu, leaky_relu or selu)");
  return 0.0;
}

void uniform_(const Tensor& t, double low, double high, Generator& gen) {
  QNN_CHECK(low <= high, "init::uniform_", "got [" << low << ", " << high << "] (expected low <= high)");
  fill(t, "init::uniform_", [&] { return low + (high - low) * uniform01(gen); });
}

void normal_(const Tensor& t, double mean, double std, Generator& gen) {
  QNN_CHECK(std >= 0.0, "init::normal_", "got std " << std << " (expected >= 0)");
  fill(t, "init::normal_", [&] { return mean + std * static_cast<double>(gen.normal()); });
}

void constant_(const Tensor& t, double value) {
  fill(t, "init::constant_", [&] { return value; });
}
void zeros_(const Tensor& t) { constant_(t, 0.0); }
void ones_(const Tensor& t) { constant_(t, 1.0); }

void kaiming_uniform_(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity, Generator& gen) {
  const double bound = calculate_gain(nonlinearity, a) * std::sqrt(3.0 / fan(t, mode, "init::kaiming_uniform_"));
  uniform_(t, -bound, bound, gen);
}

void kaiming_normal_(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity, Generator& gen) {
  const double std = calculate_gain(nonlinearity, a) / std::sqrt(fan(t, mode, "init::kaiming_normal_"));
  normal_(t, 0.0, std, gen);
}

void xavier_uniform_(const Tensor& t, double gain, Generator& gen) {
  const auto [fan_in, fan_out] = fan_in_and_fan_out(t);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  uniform_(t, -bound, bound, gen);
}

void xavier_normal_(const Tensor& t, double gain, Generator& gen) {
  const auto [fan_in, fan_out] = fan_in_and_fan_out(t);
  normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)), gen);
}

void trunc_normal_(const Tensor& t, double mean, double std, double a, double b, Generator& gen) {
  const char* op = "init::trunc_normal_";
  QNN_CHECK(std > 0.0, op, "got std " << std << " (expected > 0)");
  QNN_CHECK(a < b, op, "got bounds [" << a << ", " << b << "] (expected a < b)");
  // In units of std; clamped to +-40 (where Phi is 0 or 1 in double anyway).
  double alpha = std::clamp((a - mean) / std, -40.0, 40.0), beta = std::clamp((b - mean) / std, -40.0, 40.0);
  // Work in the lower tail, where Phi keeps its relative precision: mirror intervals above 0.
  const bool mirrored = alpha > 0.0;
  if (mirrored) {
    const double lo = -beta;
    beta = -alpha;
    alpha = lo;
  }
  const double cdf_lo = normal_cdf(alpha), cdf_hi = normal_cdf(beta);
  QNN_CHECK(cdf_hi > cdf_lo, op,
            "got bounds [" << a << ", " << b << "] with no probability under N(" << mean << ", " << std << "^2)");
  // A wide interval (the usual std = 0.02 in [-2, 2]): rejection needs under 4 draws per value
  // on average and is much cheaper than inverting the CDF.
  const bool reject = cdf_hi - cdf_lo >= 0.25;
  fill(t, op, [&] {
    double z;
    if (reject) {
      do
        z = static_cast<double>(gen.normal());
      while (z < alpha || z > beta);
    } else {
      z = normal_quantile(cdf_lo + (cdf_hi - cdf_lo) * uniform01(gen), alpha, beta);
    }
    const double x = mean + std * (mirrored ? -z : z);
    return std::clamp(x, a, b);  // rounding must not step outside [a, b]
  });
}

}  // namespace qnn::nn::init
