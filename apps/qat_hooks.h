#pragma once
// Quantization-aware training inside `qnn train`/`qnn qat`: the "qat" section of a TrainConfig,
// and the trainer hooks that wrap the base optimizer in quant::QATOptimizer (PARQ digest 3.4),
// report the annealing value, the fraction of weights on Q and Q of a few layers per epoch,
// record histograms of one layer's latent weights, and at the end apply the final hard
// projection and save the model quantized (run_dir/quantized.safetensors), checking that the
// reloaded file evaluates exactly as the model in memory.
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "apps/train_hooks.h"
#include "apps/trainer.h"
#include "optim/optimizer.h"
#include "quant/qat/qat_optimizer.h"

namespace qnn::apps {

struct QatConfig {
  std::string method = "parq";     // ste | binaryrelax | parq
  int bits = 2;                    // 1..4, 0 = ternary (JSON: a number or "ternary")
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

  nlohmann::ordered_json to_json() const;
  static QatConfig from_json(const nlohmann::json& j);  // unknown keys are an error
  std::string bits_name() const;                        // "2-bit", "ternary"
};

std::unique_ptr<TrainHooks> make_qat_hooks(const TrainConfig& config, int64_t num_classes, nn::Module& model,
                                           optim::Optimizer& optimizer, int64_t steps_per_epoch, std::ostream& log);

}  // namespace qnn::apps
