#pragma once
// Parameter initializers with torch.nn.init's formulas and defaults. Each fills a float32 tensor
// in place (not recorded by autograd) from a Generator, so one seed fixes every initial weight.
// The streams are qnn's own: same distributions as PyTorch, not the same numbers.
#include <string>
#include <utility>

#include "core/generator.h"
#include "core/tensor.h"

namespace qnn::nn::init {

enum class FanMode { FanIn, FanOut };

// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (receptive field =
// product of dims 2..), for tensors of at least 2 dims (as torch's _calculate_fan_in_and_fan_out).
std::pair<int64_t, int64_t> fan_in_and_fan_out(const Tensor& t);

// torch.nn.init.calculate_gain: "linear", "conv2d", "sigmoid" -> 1; "tanh" -> 5/3; "relu" ->
// sqrt(2); "leaky_relu" -> sqrt(2 / (1 + param^2)); "selu" -> 3/4.
double calculate_gain(const std::string& nonlinearity, double param = 0.01);

void uniform_(const Tensor& t, double low = 0.0, double high = 1.0, Generator& gen = default_generator());
void normal_(const Tensor& t, double mean = 0.0, double std = 1.0, Generator& gen = default_generator());
void constant_(const Tensor& t, double value);
void zeros_(const Tensor& t);
void ones_(const Tensor& t);

// U(-bound, bound), bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
// nn::Linear and nn::Conv2d weights use a = sqrt(5), which gives bound = 1 / sqrt(fan_in).
void kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                      const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());
// N(0, std^2), std = gain / sqrt(fan).
void kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                     const std::string& nonlinearity = "leaky_relu", Generator& gen = default_generator());
// U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out)).
void xavier_uniform_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
// N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).
void xavier_normal_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
// N(mean, std^2) conditioned on [a, b] (absolute bounds, as torch), drawn by inverting the normal
// CDF on a uniform over [Phi(alpha), Phi(beta)], so it never loops however narrow [a, b] is.
void trunc_normal_(const Tensor& t, double mean = 0.0, double std = 1.0, double a = -2.0, double b = 2.0,
                   Generator& gen = default_generator());

}  // namespace qnn::nn::init
