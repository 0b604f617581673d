// P2 Algorithm 1 (Zhang, Zhou, Saab): quantize a network layer by layer,
//   for i = 1..L:
//     Phase I : X^(i-1) = Phi^(i-1)(X_i), X-tilde^(i-1) = Phi-tilde^(i-1)(X_i)   (a fresh batch X_i,
//               through the analog and the partly quantized network)
//     Phase II: every neuron w of W^(i), in parallel, by P2 (8)-(9) (quant/ptq/gpfq_layer)
//     replace W^(i) by Q^(i) in Phi-tilde.
#include "quant/ptq/gpfq.h"

#include <chrono>
#include <cmath>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/shape.h"
#include "quant/ptq/layer_data.h"
#include "quant/ptq/layers.h"

namespace qnn::quant {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// X of `layer` for all `images`, captured chunk by chunk. For a conv layer the patch indices are
// drawn on the first call (indices empty) and reused as given afterwards, so that X and X-tilde
// are made of the same patches.
Tensor layer_matrix(nn::Module& model, const QuantLayer& layer, const Tensor& images, const PtqOptions& options,
                    Generator& gen, std::vector<int64_t>& indices) {
  const int64_t B = images.size(0), chunk = std::max<int64_t>(1, options.chunk);
  std::vector<Tensor> parts;
  for (int64_t start = 0; start < B; start += chunk) {
    const int64_t n = std::min(chunk, B - start);
    const Tensor x = capture_input(model, layer, images.narrow(0, start, n));
    if (!layer.conv) {
      parts.push_back(linear_rows(x));
      continue;
    }
    if (indices.empty())
      indices = sample_patches(B, patch_grid(*layer.conv, x.size(2), x.size(3)).per_image(), options.p, gen);
    const int64_t T = static_cast<int64_t>(indices.size()) / B;
    const std::vector<int64_t> mine(indices.begin() + start * T, indices.begin() + (start + n) * T);
    parts.push_back(conv_patch_matrix(x, *layer.conv, mine));
  }
  return parts.size() == 1 ? parts.front() : cat(parts, 0);
}

// Phase II for one layer: GPFQ on every group of a grouped conv (one group otherwise), the
// result written into Q [N_i, N].
GpfqLayerResult quantize_layer(const QuantLayer& layer, const Tensor& W, const Tensor& X, const Tensor& Xt,
                               const std::vector<Alphabet>& alphabets, const PtqOptions& options) {
  GpfqLayerOptions lo;
  lo.form = options.form;
  lo.soft_lambda = options.method == PtqMethod::gpfq_soft ? options.lambda : 0.0f;
  const int64_t groups = layer.conv ? layer.conv->args.groups : 1;
  if (groups == 1)
    return gpfq_layer(W, X, Xt, alphabets, lo);
  // Grouped conv: group g's output channels see only its slice of the patch columns.
  const int64_t out_g = W.size(0) / groups, cols_g = W.size(1);
  GpfqLayerResult all;
  all.Q = Tensor::empty(W.shape());
  double err2 = 0, n = 0;
  for (int64_t g = 0; g < groups; ++g) {
    std::vector<Alphabet> a_g = alphabets.size() == 1 ? alphabets
                                                      : std::vector<Alphabet>(alphabets.begin() + g * out_g,
                                                                              alphabets.begin() + (g + 1) * out_g);
    const Tensor Xg = X.narrow(1, g * cols_g, cols_g).contiguous(), Xtg = Xt.narrow(1, g * cols_g, cols_g).contiguous();
    GpfqLayerResult r = gpfq_layer(W.narrow(0, g * out_g, out_g), Xg, Xtg, a_g, lo);
    copy_(all.Q.narrow(0, g * out_g, out_g), r.Q);
    all.used_gram = r.used_gram;
    err2 += r.relative_error * r.relative_error;
    n += 1;
  }
  all.relative_error = std::sqrt(err2 / n);  // RMS over groups
  return all;
}

// Bias correction of the dagger variant (the GPFQ-dagger rows of P2 Table 2: the last layer left
// unquantized, its bias corrected as in Banner et al. 2018 / Nagel et al. 2019): with its float
// weights W_L, one more batch captured at its input in both networks,
//   b_L <- b_L + mean_rows(X W_L^T - X-tilde W_L^T) = b_L + W_L (x-bar - x-tilde-bar).
void correct_last_bias(nn::Module& analog, nn::Module& quantized, const QuantLayer& a_last, const QuantLayer& q_last,
                       const Tensor& batch, const PtqOptions& options) {
  QNN_CHECK(q_last.linear && q_last.bias().defined(), "bias correction",
            "the last layer '" << q_last.name << "' is not a Linear with a bias (expected the classifier)");
  Generator unused(0);
  std::vector<int64_t> no_indices;
  const Tensor X = layer_matrix(analog, a_last, batch, options, unused, no_indices);
  const Tensor Xt = layer_matrix(quantized, q_last, batch, options, unused, no_indices);
  const int64_t rows = X.size(0), N = X.size(1);
  std::vector<double> diff(N, 0.0);  // x-bar - x-tilde-bar
  const float* x = X.data<float>();
  const float* xt = Xt.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < N; ++c)
      diff[c] += (static_cast<double>(x[r * N + c]) - xt[r * N + c]) / rows;
  const Tensor W = neuron_rows(q_last.weight());
  const float* w = W.data<float>();
  float* b = q_last.bias().data<float>();
  for (int64_t j = 0; j < W.size(0); ++j) {
    double shift = 0;
    for (int64_t c = 0; c < N; ++c)
      shift += w[j * N + c] * diff[c];
    b[j] = static_cast<float>(b[j] + shift);
  }
}

}  // namespace

PtqResult gpfq(nn::Module& analog, nn::Module& quantized, const CalibrationBatches& next_batch,
               const PtqOptions& options, const LayerCallback& on_layer) {
  const auto start = Clock::now();
  QNN_CHECK(options.m > 0, "gpfq", "got m = " << options.m << " (expected m > 0 calibration images per layer)");
  QNN_CHECK(options.p > 0 && options.p <= 1, "gpfq", "got p = " << options.p << " (expected 0 < p <= 1)");
  QNN_CHECK(options.lambda >= 0, "gpfq", "got lambda = " << options.lambda << " (expected >= 0)");
  const std::vector<QuantLayer> A = quantizable_layers(analog), Qn = quantizable_layers(quantized);
  QNN_CHECK(A.size() == Qn.size(), "gpfq",
            "the analog model has " << A.size() << " layers and the quantized one " << Qn.size()
                                    << " (expected two copies of one model)");
  for (size_t i = 0; i < A.size(); ++i)
    QNN_CHECK(A[i].name == Qn[i].name && A[i].weight().shape() == Qn[i].weight().shape(), "gpfq",
              "layer " << i << " is '" << A[i].name << "' in the analog model and '" << Qn[i].name
                       << "' in the quantized one (expected two copies of one model)");
  check_plan_names(options.plan, A);
  Generator gen(options.seed);
  PtqResult result;

  for (size_t i = 0; i < A.size(); ++i) {  // P2 Algorithm 1: for i = 1..L
    const LayerPrecision precision = options.plan.precision(A[i].name, A[i].kind(), default_precision(options));
    if (!precision.quantized || (options.bias_correct && i + 1 == A.size())) {
      result.float_layers.push_back(A[i].name);
      continue;
    }
    LayerReport report;
    report.name = A[i].name;
    report.kind = A[i].kind();
    report.precision = precision.describe();
    // Phase I: a fresh batch X_i of m images through both networks, X = Phi(X_i) and
    // X-tilde = Phi-tilde(X_i), captured where layer i consumes its input.
    auto t0 = Clock::now();
    const Tensor batch = next_batch(options.m);
    QNN_CHECK(batch.defined() && batch.dim() >= 1 && batch.size(0) == options.m, "gpfq",
              "the calibration source returned " << (batch.defined() ? shape_str(batch.shape()) : "nothing")
                                                 << " (expected " << options.m << " images)");
    std::vector<int64_t> patches;
    const Tensor X = layer_matrix(analog, A[i], batch, options, gen, patches);
    const Tensor Xt = layer_matrix(quantized, Qn[i], batch, options, gen, patches);
    report.capture_seconds = seconds_since(t0);
    // Phase II: every neuron of W^(i) by the greedy path following of P2 (8)-(9); then W^(i) is
    // replaced by Q^(i) in the quantized network.
    t0 = Clock::now();
    const Tensor W = neuron_rows(A[i].weight());
    const std::vector<Alphabet> alphabets = layer_alphabets(W, precision, options);
    const GpfqLayerResult r = quantize_layer(A[i], W, X, Xt, alphabets, options);
    result.quantized.push_back(write_quantized(Qn[i], r.Q, alphabets));
    report.quantize_seconds = seconds_since(t0);
    report.alphabet =
        alphabets.size() == 1 ? alphabets.front().describe() : "per channel, e.g. " + alphabets.front().describe();
    report.rows = X.size(0);
    report.columns = W.size(1);
    report.neurons = W.size(0);
    report.relative_error = r.relative_error;
    report.gram = r.used_gram;
    result.layers.push_back(report);
    if (on_layer)
      on_layer(report);
  }
  if (options.bias_correct)
    correct_last_bias(analog, quantized, A.back(), Qn.back(), next_batch(options.m), options);
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace qnn::quant
