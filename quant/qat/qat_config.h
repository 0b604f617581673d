#pragma once
// The configuration of quantization-aware training (the "qat" section of a `qnn qat` config),
// declared once (core/config.h), and the QAT optimizer it describes: the base optimizer wrapped in
// a QATOptimizer over the model's Conv2d and Linear weights, with the annealing bounds of the
// config's epochs turned into steps.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/config.h"
#include "nn/module.h"
#include "optim/optimizer.h"
#include "quant/qat/qat_optimizer.h"

namespace qnn::quant {

struct QatConfig {
  std::string method = "parq";     // ste | binaryrelax | parq
  NumberOrWord bits{"2"};          // 1..4 or "ternary"
  std::string quantizer = "lsbq";  // lsbq | uniform
  bool optimal = false;            // exact least-squares LSBQ (ternary, 2 bits)
  bool per_channel = false;
  bool fp_stem_head = false;  // keep the first conv and the last Linear in full precision
  int64_t warmup_steps = 200;
  int64_t quant_period = 10;
  double anneal_start_epoch = 0.0;
  double anneal_end_epoch = -1.0;  // < 0: 3/4 of the epochs (150 of 200, the CIFAR recipe)
  double steepness = 100.0;
  double center = 0.5;
  bool hard_from_quantizer = false;
  std::string histogram_layer;  // empty: the middle quantized tensor

  QNN_CONFIG(QatConfig, method, bits, quantizer, optimal, per_channel, fp_stem_head, warmup_steps, quant_period,
             anneal_start_epoch, anneal_end_epoch, steepness, center, hard_from_quantizer, histogram_layer)

  void validate() const;
  // Unknown keys and values of the wrong type are errors.
  static QatConfig from_json(const nlohmann::json& j) { return parse_config<QatConfig>(j, "qat config"); }
  nlohmann::json to_json() const { return *this; }
  int bit_width() const;          // 1..4, 0 = ternary
  std::string bits_name() const;  // "2-bit", "ternary"
  QuantizerSpec quantizer_spec() const;
};

// The QAT optimizer of `config` around `base` (which must hold the model's parameters and outlive
// it), for a run of `epochs` epochs of `steps_per_epoch` steps. `description` (optional) receives
// one line saying what is quantized and how.
std::unique_ptr<QATOptimizer> make_qat_optimizer(const QatConfig& config, nn::Module& model, optim::Optimizer& base,
                                                 int64_t epochs, int64_t steps_per_epoch,
                                                 std::string* description = nullptr);

}  // namespace qnn::quant
