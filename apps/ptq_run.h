#pragma once
// One post-training quantization experiment, as `qnn ptq` and `qnn reproduce gpfq-*` run it:
// load the trained model, evaluate it in float, quantize it by round-to-nearest (the baseline)
// and by the chosen method with calibration images from the TRAINING set, evaluate both on the
// test set, optionally pick C first on a held-out part of the training set (never the test set),
// and save the quantized model (codes + levels, quant/quantized_weights.h).
#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/evaluate.h"
#include "quant/ptq/ptq.h"

namespace qnn::apps {

struct PtqRunConfig {
  std::string model = "resnet20";
  std::string weights;  // empty: randomly initialised weights (only to exercise a pipeline)
  std::string dataset = "cifar10";
  std::string data_dir;
  std::string normalize = "auto";     // auto: from the weights' metadata, else the dataset's
  std::string method = "gpfq";        // rtn, gpfq, gpfq-soft, gpfq-hard
  std::string bits = "4";             // 1..16, ternary or binary
  std::string alphabet = "midtread";  // midtread (P2) or midrise0 (P1)
  double C = 1.16;
  int64_t m = 1024;
  double p = 0.25;
  double lambda = 0.0;
  bool fold_bn = false;
  bool bias_correct = false;  // the dagger variant
  bool per_channel = false;
  bool hard_keep_qmax = false;
  std::string bits_per_layer;  // JSON file (quant/ptq/bit_plan.h)
  std::string search_C;        // "1.0:2.0:0.05": choose C on the held-out images first
  int64_t search_m = 128;      // m while searching C (P2: m <= 128)
  int64_t holdout = 5000;      // training images held out for the C search (never calibration)
  std::string form = "auto";   // auto, direct, gram
  uint64_t seed = 0;
  int64_t eval_batch = 256;
  int workers = 2;
  int64_t test_limit = 0;  // > 0: only the first N test images
  bool skip_fp = false, skip_rtn = false;
  std::string out;  // quantized model file; empty: not saved

  nlohmann::ordered_json to_json() const;
  static PtqRunConfig from_json(const nlohmann::json& j);  // unknown keys are an error
};

struct PtqRunResult {
  EvalResult fp, rtn, quantized;  // count 0 when skipped
  double C = 0;                   // the C used
  struct SearchPoint {
    double C, top1, loss;  // held-out top-1 and mean cross-entropy
  };
  std::vector<SearchPoint> search_curve;
  quant::PtqResult ptq;
  double sparsity = 0;      // zeros over Conv2d/Linear weights and biases
  int64_t file_bytes = 0;   // size of `out`
  int64_t float_bytes = 0;  // float32 size of the same state
  double peak_rss_mib = 0;
  double total_seconds = 0;
  nlohmann::ordered_json to_json() const;
};

PtqRunResult run_ptq(const PtqRunConfig& config, std::ostream& log);

// "a:b:s" -> a, a+s, ..., b (inclusive up to rounding). Throws qnn::Error on a malformed range.
std::vector<double> parse_range(const std::string& text);

}  // namespace qnn::apps
