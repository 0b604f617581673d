#include "quant/qat/qat_config.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace qnn::quant {

int QatConfig::bit_width() const {
  if (bits.text == "ternary" || bits.text == "T")
    return 0;
  size_t used = 0;
  int b = -1;
  try {
    b = std::stoi(bits.text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  QNN_CHECK(used == bits.text.size() && b >= 1 && b <= 4, "qat config",
            "got bits '" << bits.text << "' (expected 1..4 or ternary)");
  return b;
}

std::string QatConfig::bits_name() const {
  const int b = bit_width();
  return b == 0 ? "ternary" : std::to_string(b) + "-bit";
}

void QatConfig::validate() const {
  ProxMap::kind_from_string(method);  // throws for an unknown method
  bit_width();
  QNN_CHECK(quantizer == "lsbq" || quantizer == "uniform", "qat config",
            "got quantizer '" << quantizer << "' (expected lsbq or uniform)");
  QNN_CHECK(warmup_steps >= 0 && quant_period >= 1 && steepness > 0.0, "qat config",
            "got warmup_steps " << warmup_steps << ", quant_period " << quant_period << ", steepness " << steepness
                                << " (expected >= 0, >= 1, > 0)");
}

QuantizerSpec QatConfig::quantizer_spec() const {
  QuantizerSpec spec;
  spec.bits = bit_width();
  spec.method = quantizer;
  spec.optimal = optimal;
  return spec;
}

std::unique_ptr<QATOptimizer> make_qat_optimizer(const QatConfig& config, nn::Module& model, optim::Optimizer& base,
                                                 int64_t epochs, int64_t steps_per_epoch, std::string* description) {
  config.validate();
  QATOptions o;
  o.warmup_steps = config.warmup_steps;
  o.quant_period = config.quant_period;
  o.hard_from_quantizer = config.hard_from_quantizer;
  o.map.kind = ProxMap::kind_from_string(config.method);
  const double end_epoch =
      config.anneal_end_epoch >= 0.0 ? config.anneal_end_epoch : 0.75 * static_cast<double>(epochs);
  // The annealing bounds are given in epochs and applied in steps: epoch x steps per epoch.
  o.map.anneal_start = std::llround(config.anneal_start_epoch * static_cast<double>(steps_per_epoch));
  o.map.anneal_end = std::llround(end_epoch * static_cast<double>(steps_per_epoch));
  o.map.steepness = config.steepness;
  o.map.center = config.center;
  const QuantizerSpec spec = config.quantizer_spec();
  auto qat =
      std::make_unique<QATOptimizer>(base, default_qat_groups(model, spec, config.per_channel, config.fp_stem_head), o);
  QNN_CHECK(!qat->entries().empty(), "qat", "the model has no Conv2d or Linear weight to quantize");
  if (description) {
    int64_t n = 0;
    for (const auto& e : qat->entries())
      n += e.param.numel();
    std::ostringstream line;
    line << config.method << ", " << spec.describe() << (config.per_channel ? " per channel" : " per tensor") << ", "
         << qat->entries().size() << " tensors (" << n << " weights) quantized"
         << (config.fp_stem_head ? ", stem and head in FP" : ", stem and head included") << "; warmup "
         << o.warmup_steps << " steps, Q every " << o.quant_period << " steps, anneal steps " << o.map.anneal_start
         << ".." << o.map.anneal_end << " (epoch " << end_epoch << ")";
    if (o.map.kind == ProxMap::Kind::parq) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3g", o.map.steepness);
      line << ", steepness " << buf;
    }
    *description = line.str();
  }
  return qat;
}

}  // namespace qnn::quant
