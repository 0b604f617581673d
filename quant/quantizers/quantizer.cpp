#include "quant/quantizers/quantizer.h"

#include "core/error.h"
#include "quant/quantizers/lsbq.h"

namespace qnn::quant {

std::string QuantizerSpec::describe() const {
  const std::string b = bits == 0 ? "ternary" : std::to_string(bits) + "-bit";
  if (method == "uniform")
    return "uniform " + b + (bits == 0 ? "" : (midtread ? " midtread" : " midrise")) +
           (scale == UniformScale::max ? " max-scale" : " mean-scale");
  return "lsbq " + b + (optimal ? " optimal" : (bits == 0 ? " (1.1 mean)" : " greedy"));
}

nlohmann::json QuantizerSpec::to_json() const {
  return {{"bits", bits},
          {"method", method},
          {"optimal", optimal},
          {"ternary_mult", ternary_mult},
          {"scale", scale == UniformScale::max ? "max" : "mean"},
          {"midtread", midtread}};
}

QuantizerSpec QuantizerSpec::from_json(const nlohmann::json& j) {
  QuantizerSpec s;
  s.bits = j.value("bits", s.bits);
  s.method = j.value("method", s.method);
  s.optimal = j.value("optimal", s.optimal);
  s.ternary_mult = j.value("ternary_mult", s.ternary_mult);
  s.scale = uniform_scale_from_string(j.value("scale", std::string("mean")));
  s.midtread = j.value("midtread", s.midtread);
  QNN_CHECK(s.method == "lsbq" || s.method == "uniform", "quantizer",
            "got method '" << s.method << "' (expected lsbq or uniform)");
  QNN_CHECK(s.bits >= 0 && s.bits <= 4, "quantizer", "got bits " << s.bits << " (expected 1..4, or 0 = ternary)");
  QNN_CHECK(!s.optimal || s.method != "lsbq" || s.bits == 0 || s.bits == 1 || s.bits == 2, "quantizer",
            "optimal LSBQ for " << s.bits << " bits (expected ternary, 1 or 2 bits)");
  return s;
}

Alphabet quantize_group(std::span<const float> u, const QuantizerSpec& spec, std::span<float> q_hat) {
  if (spec.method == "uniform")
    return spec.bits == 0 ? uniform_ternary(u, q_hat)
                          : uniform_quantize(u, spec.bits, spec.scale, spec.midtread, q_hat);
  QNN_CHECK(spec.method == "lsbq", "quantize", "got method '" << spec.method << "' (expected lsbq or uniform)");
  if (spec.bits == 0)
    return spec.optimal ? lsbq_optimal_ternary(u, q_hat) : lsbq_ternary_simple(u, q_hat, spec.ternary_mult);
  if (spec.optimal && spec.bits == 2)
    return lsbq_optimal_2bit(u, q_hat);
  return lsbq_greedy(u, spec.bits, q_hat);  // b = 1: greedy is exact (XNOR-Net)
}

GroupQuantization quantize_groups(std::span<const float> x, int64_t rows, const QuantizerSpec& spec) {
  QNN_CHECK(rows >= 1 && !x.empty() && static_cast<int64_t>(x.size()) % rows == 0, "quantize",
            "got " << x.size() << " values in " << rows << " groups (expected a positive multiple)");
  const size_t n = x.size() / static_cast<size_t>(rows);
  GroupQuantization out;
  out.q_hat.resize(x.size());
  out.Q.reserve(rows);
  for (int64_t r = 0; r < rows; ++r)
    out.Q.push_back(quantize_group(x.subspan(r * n, n), spec, std::span<float>(out.q_hat).subspan(r * n, n)));
  return out;
}

}  // namespace qnn::quant
