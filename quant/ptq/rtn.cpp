#include "quant/ptq/rtn.h"

#include <chrono>

#include "core/error.h"
#include "quant/ptq/layers.h"

namespace qnn::quant {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

PtqResult rtn(nn::Module& model, const PtqOptions& options, const LayerCallback& on_layer) {
  const auto start = Clock::now();
  const std::vector<QuantLayer> layers = quantizable_layers(model);
  check_plan_names(options.plan, layers);
  PtqResult result;
  for (size_t i = 0; i < layers.size(); ++i) {
    const QuantLayer& layer = layers[i];
    const LayerPrecision precision = options.plan.precision(layer.name, layer.kind(), default_precision(options));
    if (!precision.quantized || (options.bias_correct && i + 1 == layers.size())) {
      result.float_layers.push_back(layer.name);
      continue;
    }
    const auto t0 = Clock::now();
    const Tensor W = neuron_rows(layer.weight());
    const std::vector<Alphabet> alphabets = layer_alphabets(W, precision, options);
    Tensor Q = Tensor::empty(W.shape());
    const float* w = W.data<float>();
    float* q = Q.data<float>();
    const int64_t rows = W.size(0), cols = W.size(1);
    for (int64_t j = 0; j < rows; ++j)
      for (int64_t t = 0; t < cols; ++t)  // P2 (5): q = Q(w), entry by entry
        q[j * cols + t] = alphabets[alphabets.size() == 1 ? 0 : j].nearest(w[j * cols + t]);
    result.quantized.push_back(write_quantized(layer, Q, alphabets));
    LayerReport report{layer.name, layer.kind(), precision.describe(), alphabets.front().describe(), 0, cols, rows};
    report.quantize_seconds = seconds_since(t0);
    result.layers.push_back(report);
    if (on_layer)
      on_layer(report);
  }
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace qnn::quant
