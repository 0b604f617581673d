#include "quant/quantizers/step_size.h"

#include <cmath>

#include "core/error.h"

namespace qnn::quant {

std::vector<float> row_max_abs(const Tensor& W) {
  QNN_CHECK(W.defined() && W.dim() >= 1 && W.numel() > 0, "row_max_abs",
            "got an empty or undefined weight (expected a tensor with at least one row)");
  const Tensor w = W.contiguous().to(DType::Float32);
  const int64_t rows = w.size(0), cols = w.numel() / rows;
  const float* p = w.data<float>();
  std::vector<float> out(rows, 0.0f);
  for (int64_t j = 0; j < rows; ++j)
    for (int64_t i = 0; i < cols; ++i)
      out[j] = std::max(out[j], std::fabs(p[j * cols + i]));
  return out;
}

float mean_row_max_abs(const Tensor& W) {
  const std::vector<float> r = row_max_abs(W);
  double sum = 0;
  for (float v : r)
    sum += v;
  return static_cast<float>(sum / static_cast<double>(r.size()));
}

std::vector<Alphabet> fit_alphabets(const Tensor& W, const AlphabetSpec& spec) {
  QNN_CHECK(std::isfinite(spec.C) && spec.C > 0, "fit_alphabets", "got C = " << spec.C << " (expected C > 0)");
  const bool uses_bits = spec.family == AlphabetFamily::midtread || spec.family == AlphabetFamily::midrise_zero;
  QNN_CHECK(!uses_bits || (spec.bits >= 1 && spec.bits <= 16), "fit_alphabets",
            "got bits = " << spec.bits << " (expected 1..16)");
  if (!spec.per_channel)  // R = C r-bar, P2 (32) / P1 (18)
    return {alphabet_with_radius(spec.family, spec.bits, static_cast<float>(spec.C) * mean_row_max_abs(W))};
  std::vector<Alphabet> out;
  for (float r : row_max_abs(W)) {
    // An all-zero neuron keeps a tiny grid: every weight rounds to 0 (midtread) all the same.
    const float R = r > 0 ? static_cast<float>(spec.C) * r : 1e-30f;
    out.push_back(alphabet_with_radius(spec.family, spec.bits, R));
  }
  return out;
}

}  // namespace qnn::quant
