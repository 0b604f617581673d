#include "quant/ptq/ptq_options.h"

#include "core/autograd.h"
#include "core/error.h"

namespace qnn::quant {

LayerPrecision default_precision(const PtqOptions& o) { return {true, o.alphabet.family, o.alphabet.bits}; }

void check_plan_names(const BitPlan& plan, const std::vector<QuantLayer>& layers) {
  if (!plan.json().contains("layers"))
    return;
  for (const auto& [name, value] : plan.json()["layers"].items()) {
    bool found = false;
    for (const auto& layer : layers)
      found = found || layer.name == name;
    QNN_CHECK(found, "bit plan",
              "names layer '" << name << "', which the model does not have (expected one of its "
                              << "Conv2d/Linear paths, e.g. '" << layers.front().name << "')");
  }
}

// The weight as the neuron-per-row matrix [N_i, N] (a view when contiguous).
Tensor neuron_rows(const Tensor& weight) { return weight.contiguous().reshape({weight.size(0), -1}); }

QuantizedParam write_quantized(const QuantLayer& layer, const Tensor& Q, const std::vector<Alphabet>& alphabets) {
  NoGradGuard no_grad;
  copy_(layer.weight(), Q.reshape(layer.weight().shape()));
  return QuantizedParam{layer.name + ".weight", alphabets};
}

PtqMethod ptq_method_from_string(const std::string& name) {
  if (name == "rtn")
    return PtqMethod::rtn;
  if (name == "gpfq")
    return PtqMethod::gpfq;
  if (name == "gpfq-soft")
    return PtqMethod::gpfq_soft;
  if (name == "gpfq-hard")
    return PtqMethod::gpfq_hard;
  throw Error("ptq: got method '" + name + "' (expected rtn, gpfq, gpfq-soft or gpfq-hard)");
}

std::string to_string(PtqMethod method) {
  switch (method) {
    case PtqMethod::rtn:
      return "rtn";
    case PtqMethod::gpfq:
      return "gpfq";
    case PtqMethod::gpfq_soft:
      return "gpfq-soft";
    case PtqMethod::gpfq_hard:
      return "gpfq-hard";
  }
  return "?";
}

std::vector<Alphabet> layer_alphabets(const Tensor& weight, const LayerPrecision& precision,
                                      const PtqOptions& options) {
  AlphabetSpec spec = options.alphabet;
  spec.family = precision.family;
  spec.bits = precision.bits;
  std::vector<Alphabet> alphabets = fit_alphabets(neuron_rows(weight), spec);
  if (options.method != PtqMethod::gpfq_hard || options.lambda <= 0)
    return alphabets;
  QNN_CHECK(spec.family == AlphabetFamily::midtread, "gpfq-hard",
            "got the " << to_string(spec.family) << " alphabet (expected midtread, the one P2 (4) thresholds)");
  for (Alphabet& a : alphabets) {
    // P2 (4): {0} u {+-(lambda + k delta)}, K and delta as in P2 (31)-(32) (paper text), or delta
    // shrunk so that the top level stays C r-bar (the authors' code, not P2 section 5.2.4's text).
    float delta = a.delta();
    if (options.hard_keep_qmax) {
      delta = (a.max_level() - options.lambda) / static_cast<float>(a.K());
      QNN_CHECK(delta > 0, "gpfq-hard",
                "lambda = " << options.lambda << " is not below the top level " << a.max_level()
                            << " (expected lambda < C r-bar with hard_keep_qmax)");
    }
    a = Alphabet::thresholded(a.K(), delta, options.lambda);
  }
  return alphabets;
}

}  // namespace qnn::quant
