#pragma once
// Quantization-aware training as a run: the trainer of engine/trainer.h stepping a
// quant::QATOptimizer (the base optimizer of the TrainConfig wrapped as the QatConfig says), plus
// the callbacks that make the run folder of a QAT run:
//   - per epoch, the QAT report in the epoch's metrics (phase, annealing value, fraction of
//     quantized weights on Q, Q of the first, middle and last quantized tensor);
//   - histograms of one layer's latent weights u and of the weights in use w = map(u), per epoch
//     (latent_histogram.json; apps draw it), kept across a resume;
//   - at the end, the final hard projection onto Q, the model saved quantized
//     (quantized.safetensors), reloaded and checked to evaluate exactly as the model in memory,
//     qat_summary.json, and the bits and levels of every quantized tensor in run.json.
#include <atomic>
#include <string>
#include <vector>

#include "engine/trainer.h"
#include "quant/qat/qat_config.h"

namespace qnn::engine {

// config.json of a QAT run: the TrainConfig with the QatConfig under "qat".
nlohmann::ordered_json qat_config_record(const TrainConfig& config, const quant::QatConfig& qat);

// A QAT run (fresh or resumed). `callbacks` run after the QAT ones (so an epoch callback sees
// metrics.extra filled in, and on_finish sees quantized.safetensors written).
TrainResult train_qat(const TrainConfig& config, const quant::QatConfig& qat, const data::ClassificationData& data,
                      const TrainCallbacks& callbacks = {}, const std::string& resume = "",
                      const std::atomic<bool>* stop = nullptr);

// Counts of `values` in `bins` even bins over [lo, hi]; values outside go to the end bins.
std::vector<int64_t> histogram_counts(const float* values, int64_t n, double lo, double hi, int bins);

// The QAT part of an epoch line, from metrics.extra: "  |  anneal inv_slope 0.5  on Q 93.1%  conv1 +-{...}".
std::string qat_epoch_text(const nlohmann::json& extra);

}  // namespace qnn::engine
