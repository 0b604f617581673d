#pragma once
// What the post-training passes share: the method, its options, what a pass reports, and the
// per-layer alphabets. The passes: quant/ptq/rtn.h (round-to-nearest) and quant/ptq/gpfq.h (P2
// Algorithm 1 and its sparse variants); quant/ptq/ptq.h includes them all.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nn/module.h"
#include "quant/ptq/bit_plan.h"
#include "quant/ptq/gpfq_layer.h"
#include "quant/ptq/layers.h"
#include "quant/quantized_weights.h"
#include "quant/quantizers/step_size.h"

namespace qnn::quant {

enum class PtqMethod {
  rtn,        // q = Q(w) on the same alphabet (memoryless scalar quantization, P2 (5)); our baseline
  gpfq,       // P2 Algorithm 1 with P2 (8)-(9)
  gpfq_soft,  // sparse GPFQ, soft thresholding P2 (27)
  gpfq_hard,  // sparse GPFQ, hard thresholding P2 (28)
};
PtqMethod ptq_method_from_string(const std::string& name);  // rtn, gpfq, gpfq-soft, gpfq-hard
std::string to_string(PtqMethod method);

struct PtqOptions {
  PtqMethod method = PtqMethod::gpfq;
  AlphabetSpec alphabet;  // family, bits, C, per_channel: the layers' default precision
  BitPlan plan;           // mixed precision (bit_plan.h); empty: every layer as `alphabet`
  int64_t m = 1024;       // calibration images per layer ("batch size" of the papers)
  double p = 0.25;        // fraction of patches kept per image for conv layers
  float lambda = 0.0f;    // sparse GPFQ's lambda, in weight units, the same for every layer
  // Hard thresholding: the paper keeps delta of P2 (32), so the top level is lambda + C r-bar
  // (default); true shrinks delta to (C r-bar - lambda) / K as the authors' code does.
  bool hard_keep_qmax = false;
  // The dagger variant (P2 Table 2): the last Linear stays float and its bias absorbs the mean
  // output shift caused by the quantized layers below it (bias correction).
  bool bias_correct = false;
  GpfqForm form = GpfqForm::automatic;
  int64_t chunk = 256;  // images per forward while capturing layer inputs (bounds memory)
  uint64_t seed = 0;    // patch sampling
};

struct LayerReport {
  std::string name, kind, precision, alphabet;
  int64_t rows = 0, columns = 0, neurons = 0;  // X is rows x columns; neurons = output units
  double capture_seconds = 0, quantize_seconds = 0;
  double relative_error = -1;  // ||XW^T - X~Q^T|| / ||XW^T||; -1 when not measured (RTN)
  bool gram = false;
};

struct PtqResult {
  std::vector<LayerReport> layers;        // quantized layers, in order
  std::vector<QuantizedParam> quantized;  // for save_quantized
  std::vector<std::string> float_layers;  // left unquantized (plan "float", or the dagger's last layer)
  double seconds = 0;
};

// The next batch of m calibration images [m, C, H, W], a fresh one at every call (Algorithm 1
// takes one batch X_i per layer).
using CalibrationBatches = std::function<Tensor(int64_t m)>;
using LayerCallback = std::function<void(const LayerReport&)>;

// The alphabet(s) of one layer under `options` and its precision (thresholded for gpfq-hard).
std::vector<Alphabet> layer_alphabets(const Tensor& weight, const LayerPrecision& precision, const PtqOptions& options);

// ---- shared by the passes ----
// The precision every layer gets unless the bit plan says otherwise.
LayerPrecision default_precision(const PtqOptions& options);
// Throws when the bit plan names a layer the model does not have (a typo must not be ignored).
void check_plan_names(const BitPlan& plan, const std::vector<QuantLayer>& layers);
// The weight as the neuron-per-row matrix [N_i, N] (a view when contiguous).
Tensor neuron_rows(const Tensor& weight);
// Writes Q into the layer's weight (in place) and returns what save_quantized needs for it.
QuantizedParam write_quantized(const QuantLayer& layer, const Tensor& Q, const std::vector<Alphabet>& alphabets);

}  // namespace qnn::quant
