#pragma once
// The post-training quantization pipeline, as `qnn ptq` and `qnn reproduce gpfq-*` run it: load
// the trained model, evaluate it in float, optionally fold batch norms, optionally choose the
// step-size constant C on a held-out part of the TRAINING set (never the test set), quantize by
// round-to-nearest (the baseline) and by the chosen method with calibration images from the
// training set, evaluate both on the test set, and save the quantized model (codes + levels,
// quant/quantized_weights.h), in a run folder when one is asked for. Progress goes to an observer.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "datasets/dataset.h"
#include "engine/evaluate.h"
#include "nn/module.h"
#include "quant/ptq/ptq.h"

namespace qnn::engine {

struct PtqRunConfig {
  std::string model = "resnet20";
  std::string weights;  // empty: randomly initialised weights (only to exercise a pipeline)
  std::string dataset = "cifar10";
  std::string data_dir;
  std::string normalize = "auto";     // auto: from the weights' metadata, else the dataset's
  std::string method = "gpfq";        // rtn, gpfq, gpfq-soft, gpfq-hard
  NumberOrWord bits{"4"};             // 1..16, ternary or binary
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
  std::string out;  // quantized model file; empty: quantized.safetensors in the run folder, if any
  // The run folder out_dir/run_name (config.json, run.json, result.json); out_dir empty: none.
  std::string out_dir;
  std::string run_name;  // empty: ptq-<model>-<method>-<bits>-seed<seed>

  QNN_CONFIG(PtqRunConfig, model, weights, dataset, data_dir, normalize, method, bits, alphabet, C, m, p, lambda,
             fold_bn, bias_correct, per_channel, hard_keep_qmax, bits_per_layer, search_C, search_m, holdout, form,
             seed, eval_batch, workers, test_limit, skip_fp, skip_rtn, out, out_dir, run_name)

  // Unknown keys and values of the wrong type are errors.
  static PtqRunConfig from_json(const nlohmann::json& j) { return parse_config<PtqRunConfig>(j, "ptq config"); }
  nlohmann::json to_json() const { return *this; }
  std::string run_dir() const;    // empty when out_dir is
  std::string bits_name() const;  // "4-bit", "ternary"
};

struct PtqRunResult {
  EvalResult fp, rtn, quantized;  // count 0 when skipped
  double C = 0;                   // the C used
  struct SearchPoint {
    double C = 0, top1 = 0, loss = 0;  // held-out top-1 and mean cross-entropy
    double seconds = 0;
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

// What the pipeline reports while it runs.
struct PtqObserver {
  // An evaluation on the test set: "float", "rtn" or the method's name.
  std::function<void(const std::string& label, const EvalResult&)> on_eval;
  std::function<void(const PtqRunResult::SearchPoint&)> on_search_point;  // one C of the search
  std::function<void(size_t index, size_t count, const quant::LayerReport&)> on_layer;
  std::function<void(const std::string&)> on_message;  // a line of text
};
// The observer that prints what `qnn ptq` prints, to `log`.
PtqObserver ptq_log_observer(std::ostream& log);

PtqRunResult run_ptq(const PtqRunConfig& config, const PtqObserver& observer = {});
inline PtqRunResult run_ptq(const PtqRunConfig& config, std::ostream& log) {
  return run_ptq(config, ptq_log_observer(log));
}

// The PTQ options of a config with step-size constant C (checks the values).
quant::PtqOptions ptq_options(const PtqRunConfig& config, double C);

// The C of `grid` whose quantized model has the lowest mean cross-entropy on `holdout` (P2
// section 5.1: a grid over [1, 2], small m), quantizing copies of `analog` with m = config.search_m
// and calibration images from `pool`. `curve` receives every point.
double search_C(const PtqRunConfig& config, nn::Module& analog,
                const std::function<std::shared_ptr<nn::Module>()>& copy, std::shared_ptr<const data::Dataset> pool,
                std::shared_ptr<const data::Dataset> holdout, const std::vector<double>& grid,
                std::vector<PtqRunResult::SearchPoint>& curve, const PtqObserver& observer = {});

// "a:b:s" -> a, a+s, ..., b (inclusive up to rounding). Throws qnn::Error on a malformed range.
std::vector<double> parse_range(const std::string& text);

}  // namespace qnn::engine
