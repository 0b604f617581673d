#include "engine/qat_training.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "engine/evaluate.h"
#include "engine/run_record.h"
#include "engine/weights.h"
#include "nn/models/registry.h"
#include "quant/quantized_weights.h"

namespace qnn::engine {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// Q as printed in an epoch line: the non-negative half of a symmetric set ("+-{0.08, 0.31}").
std::string format_levels(const std::vector<float>& levels) {
  bool symmetric = true;
  for (size_t i = 0; i < levels.size(); ++i)
    symmetric &= levels[i] == -levels[levels.size() - 1 - i];
  std::ostringstream s;
  s.precision(3);
  s << (symmetric ? "+-{" : "{");
  bool first = true;
  for (float v : levels) {
    if (symmetric && v < 0.0f)
      continue;
    s << (first ? "" : ",") << v;
    first = false;
  }
  s << "}";
  return s.str();
}

// The last path component of a weight name without ".weight" ("layer2.0.conv1").
std::string short_name(const std::string& name) {
  const std::string suffix = ".weight";
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0
             ? name.substr(0, name.size() - suffix.size())
             : name;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// The QAT callbacks of one run; lives as long as the run.
class QatMonitor {
 public:
  QatMonitor(const TrainConfig& config, const quant::QatConfig& qat, quant::QATOptimizer& optimizer,
             int64_t num_classes, std::shared_ptr<const data::Dataset> test_set)
      : config_(config), qat_(qat), optimizer_(optimizer), num_classes_(num_classes), test_set_(std::move(test_set)) {
    const auto& entries = optimizer_.entries();
    hist_index_ = entries.size() / 2;
    if (!qat_.histogram_layer.empty()) {
      hist_index_ = entries.size();
      for (size_t i = 0; i < entries.size(); ++i)
        if (entries[i].name == qat_.histogram_layer || short_name(entries[i].name) == qat_.histogram_layer)
          hist_index_ = i;
      QNN_CHECK(hist_index_ < entries.size(), "qat",
                "histogram_layer '" << qat_.histogram_layer << "' is not a quantized weight");
    }
    // The range is 1.3 x the 99.5th percentile of |w| (a few outliers would otherwise squeeze the
    // bulk and Q into a few bins); values beyond it are counted in the end bins.
    std::vector<float> a = entries[hist_index_].param.to_vector<float>();
    for (float& v : a)
      v = std::fabs(v);
    const size_t k = std::min(a.size() - 1, static_cast<size_t>(0.995 * static_cast<double>(a.size())));
    std::nth_element(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(k), a.end());
    hist_range_ = 1.3 * std::max(a[k], 1e-6f);
    snapshot(0, "start");  // the starting weights (epoch 0)
  }

  void epoch_end(EpochMetrics& m) {
    const quant::QATOptimizer::Report r = optimizer_.report();
    json& extra = m.extra;
    extra["t"] = r.t;
    extra["phase"] = r.phase;
    extra["value_name"] = value_name();
    extra[value_name()] = r.value;
    extra["fraction_on_Q"] = r.fraction_on_Q;
    extra["per_channel"] = qat_.per_channel;
    json Q = json::object();
    const auto& entries = optimizer_.entries();
    for (size_t i : {size_t{0}, entries.size() / 2, entries.size() - 1})
      if (!entries[i].Q.empty())
        Q[entries[i].name] = entries[i].Q[0].levels();
    extra["Q"] = Q;
    snapshot(m.epoch, r.phase == "anneal" ? value_name() + " " + fmt(r.value) : r.phase);
  }

  json save_state() const { return {{"histograms", snapshots_}, {"histogram_range", hist_range_}}; }
  void load_state(const json& s) {
    snapshots_ = s.value("histograms", json::array());
    hist_range_ = s.value("histogram_range", hist_range_);
  }

  void finish(nn::Module& model, RunFolder& folder, const EvalOptions& eval_options) {
    // The deployed model is exactly on Q (the PARQ paper's final projection w = proj_Q(u)). With
    // the anneal ending before the last step the map is already hard and nothing moves.
    const int64_t moved = optimizer_.final_projection();
    const quant::QATOptimizer::Report r = optimizer_.report();
    messages_ << "final hard projection: " << moved << " of " << r.num_quantized << " quantized weights moved onto Q ("
              << (moved == 0 ? "already exactly quantized" : "the last epoch was not yet hard") << "); on Q "
              << 100.0 * r.fraction_on_Q << "%\n";
    const EvalResult in_memory = evaluate(model, test_set_, eval_options);
    const std::string path = folder.path("quantized.safetensors");
    std::map<std::string, std::string> meta;
    meta["arch"] = config_.model;
    meta["dataset"] = config_.dataset;
    normalization_to_metadata(norm_, meta);
    meta["method"] = qat_.method;
    meta["bits"] = qat_.bits_name();
    meta["qat"] = qat_.to_json().dump();
    const std::vector<quant::QuantizedParam> quantized = optimizer_.quantized_params();
    quant::save_quantized(path, model.state_dict(), quantized, meta);
    // The file must evaluate exactly like the model in memory.
    nn::ModelOptions mo;
    mo.num_classes = num_classes_;
    auto reloaded = nn::make_model(config_.model, mo);
    reloaded->load_state_dict(quant::load_quantized(path).state, /*strict=*/true);
    const EvalResult from_file = evaluate(*reloaded, test_set_, eval_options);
    const bool same = from_file.top1 == in_memory.top1 && from_file.loss == in_memory.loss;
    char line[512];
    std::snprintf(line, sizeof line,
                  "exactly-quantized model: test top-1 %.2f%% (loss %.4f); reloaded %s: top-1 %.2f%% (loss %.4f) %s\n",
                  in_memory.top1, in_memory.loss, path.c_str(), from_file.top1, from_file.loss,
                  same ? "identical" : "DIFFERENT");
    messages_ << line;
    QNN_CHECK(same, "qat", "the reloaded quantized model evaluates differently from the model in memory");
    snapshot(-1, "final, on Q");
    folder.write_json("latent_histogram.json", histogram_record());
    const int64_t file_bytes = static_cast<int64_t>(std::filesystem::file_size(path));
    int64_t float_bytes = 0;
    for (const auto& [name, t] : model.state_dict())
      float_bytes += t.numel() * 4;
    std::snprintf(line, sizeof line, "saved %s: %.1f KiB (float32 %.1f KiB, %.1f%%)\n", path.c_str(),
                  file_bytes / 1024.0, float_bytes / 1024.0,
                  100.0 * static_cast<double>(file_bytes) / static_cast<double>(std::max<int64_t>(1, float_bytes)));
    messages_ << line;
    ojson summary;
    summary["method"] = qat_.method;
    summary["bits"] = qat_.bits_name();
    summary["final_top1"] = in_memory.top1;
    summary["final_loss"] = in_memory.loss;
    summary["reloaded_top1"] = from_file.top1;
    summary["moved_by_final_projection"] = moved;
    summary["quantized_weights"] = r.num_quantized;
    summary["quantized_file"] = path;
    summary["file_bytes"] = file_bytes;
    summary["float_bytes"] = float_bytes;
    folder.write_json("qat_summary.json", summary);
    folder.record("quantized", quantized_record(quantized, qat_.bits_name()));
  }

  void set_normalization(const data::Normalization& norm) { norm_ = norm; }
  // Text for the user since the last call.
  std::string take_messages() {
    std::string s = messages_.str();
    messages_.str("");
    return s;
  }

 private:
  std::string value_name() const {
    return qat_.method == "parq" ? "inv_slope" : qat_.method == "binaryrelax" ? "theta" : "value";
  }

  // One histogram panel of the chosen layer: the latent u (filled) and the weights w = map(u) the
  // network uses (outline). Under PARQ, w gathers on Q as the slope anneals while u stays spread
  // (the PARQ paper's Figure 11 plots w against u); before QAT starts, and after the final
  // projection, there is only one tensor.
  void snapshot(int64_t epoch, const std::string& label) {
    const auto& e = optimizer_.entries()[hist_index_];
    const bool two = epoch >= 0 && e.latent.defined();
    const Tensor& filled = two ? e.latent : e.param;
    json s;
    s["epoch"] = epoch;
    s["label"] = std::string(epoch < 0 ? "w " : two ? "" : "weights ") + label;
    s["counts"] = histogram_counts(filled.data<float>(), filled.numel(), -hist_range_, hist_range_, kBins);
    if (two)
      s["counts_w"] = histogram_counts(e.param.data<float>(), e.param.numel(), -hist_range_, hist_range_, kBins);
    s["levels"] = e.Q.empty() ? std::vector<float>{} : e.Q[0].levels();
    snapshots_.push_back(s);
  }

  ojson histogram_record() const {
    ojson h;
    h["title"] =
        config_.model + " " + optimizer_.entries()[hist_index_].name + ": " + qat_.method + " " + qat_.bits_name();
    h["lo"] = -hist_range_;
    h["hi"] = hist_range_;
    h["fill_label"] = "latent u";
    h["overlay_label"] = "w = map(u), the weights in use";
    h["snapshots"] = snapshots_;
    return h;
  }

  static constexpr int kBins = 120;
  TrainConfig config_;
  quant::QatConfig qat_;
  quant::QATOptimizer& optimizer_;
  int64_t num_classes_;
  std::shared_ptr<const data::Dataset> test_set_;
  data::Normalization norm_;
  size_t hist_index_ = 0;
  double hist_range_ = 1.0;
  json snapshots_ = json::array();
  std::ostringstream messages_;
};

}  // namespace

std::vector<int64_t> histogram_counts(const float* values, int64_t n, double lo, double hi, int bins) {
  std::vector<int64_t> counts(std::max(bins, 1), 0);
  const double width = (hi - lo) / static_cast<double>(counts.size());
  for (int64_t i = 0; i < n; ++i) {
    const double k = std::floor((static_cast<double>(values[i]) - lo) / width);
    counts[static_cast<size_t>(std::clamp(k, 0.0, static_cast<double>(counts.size() - 1)))] += 1;
  }
  return counts;
}

ojson qat_config_record(const TrainConfig& config, const quant::QatConfig& qat) {
  ojson j = config.to_json();
  j["qat"] = qat.to_json();
  return j;
}

std::string qat_epoch_text(const json& extra) {
  if (!extra.contains("phase"))
    return "";
  std::string text = "  |  " + extra.at("phase").get<std::string>();
  char buf[96];
  const std::string value_name = extra.value("value_name", std::string("value"));
  if (extra.at("phase") == "anneal") {
    std::snprintf(buf, sizeof buf, " %s %.3g", value_name.c_str(), extra.value(value_name, 0.0));
    text += buf;
  }
  std::snprintf(buf, sizeof buf, "  on Q %.1f%%", 100.0 * extra.value("fraction_on_Q", 0.0));
  text += buf;
  const json Q = extra.value("Q", json::object());
  if (!extra.value("per_channel", false))
    for (const auto& [name, levels] : Q.items())
      text += "  " + short_name(name) + " " + format_levels(levels.get<std::vector<float>>());
  return text;
}

TrainResult train_qat(const TrainConfig& config, const quant::QatConfig& qat, const data::ClassificationData& data,
                      const TrainCallbacks& callbacks, const std::string& resume, const std::atomic<bool>* stop) {
  const std::shared_ptr<nn::Module> model = make_run_model(config, data.num_classes, resume);
  const std::unique_ptr<optim::Optimizer> base = make_optimizer(config, *model);
  std::string description;
  const std::unique_ptr<quant::QATOptimizer> optimizer =
      quant::make_qat_optimizer(qat, *model, *base, config.epochs, steps_per_epoch(config, data), &description);
  const std::unique_ptr<optim::LRScheduler> scheduler = make_scheduler(config, *optimizer);
  if (callbacks.on_message)
    callbacks.on_message("qat: " + description);
  QatMonitor monitor(config, qat, *optimizer, data.num_classes, data::first_n(data.test, config.test_limit));
  monitor.set_normalization(data.norm);
  EvalOptions eval_options;
  eval_options.batch_size = config.eval_batch;
  eval_options.workers = config.workers;

  TrainCallbacks chained = callbacks;
  chained.on_epoch_end = [&](EpochMetrics& m) {
    monitor.epoch_end(m);
    if (callbacks.on_epoch_end)
      callbacks.on_epoch_end(m);
  };
  chained.on_finish = [&](nn::Module& trained, RunFolder& folder) {
    monitor.finish(trained, folder, eval_options);
    if (callbacks.on_message)
      callbacks.on_message(monitor.take_messages());
    if (callbacks.on_finish)
      callbacks.on_finish(trained, folder);
  };
  chained.save_state = [&] {
    json s = {{"qat", monitor.save_state()}};
    if (callbacks.save_state)
      s["user"] = callbacks.save_state();
    return s;
  };
  chained.load_state = [&](const json& s) {
    QNN_CHECK(s.contains("qat"), "qat --resume",
              resume << " holds no QAT state (expected the last.safetensors of a qnn qat run)");
    monitor.load_state(s.at("qat"));
    if (callbacks.load_state)
      callbacks.load_state(s.value("user", json::object()));
  };
  return train(config, data, Trainee{*model, *optimizer, *scheduler, qat_config_record(config, qat)}, chained, resume,
               stop);
}

}  // namespace qnn::engine
