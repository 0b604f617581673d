#include "apps/qat_hooks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/svg_histogram.h"
#include "apps/weights.h"
#include "core/error.h"
#include "nn/models/registry.h"
#include "quant/quantized_weights.h"

namespace qnn::apps {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

ojson QatConfig::to_json() const {
  ojson j;
  j["method"] = method;
  j["bits"] = bits == 0 ? ojson("ternary") : ojson(bits);
  j["quantizer"] = quantizer;
  j["optimal"] = optimal;
  j["per_channel"] = per_channel;
  j["fp_stem_head"] = fp_stem_head;
  j["warmup_steps"] = warmup_steps;
  j["quant_period"] = quant_period;
  j["anneal_start_epoch"] = anneal_start_epoch;
  j["anneal_end_epoch"] = anneal_end_epoch;
  j["steepness"] = steepness;
  j["center"] = center;
  j["hard_from_quantizer"] = hard_from_quantizer;
  j["histogram_layer"] = histogram_layer;
  return j;
}

QatConfig QatConfig::from_json(const json& j) {
  QNN_CHECK(j.is_object(), "qat config", "got " << j.type_name() << " (expected a JSON object)");
  QatConfig c;
  const ojson known = c.to_json();
  for (const auto& [key, value] : j.items())
    QNN_CHECK(known.contains(key), "qat config", "unknown key '" << key << "'");
  try {
    c.method = j.value("method", c.method);
    if (j.contains("bits")) {
      const json& b = j.at("bits");
      if (b.is_string()) {
        const std::string s = b.get<std::string>();
        QNN_CHECK(s == "ternary" || s == "T", "qat config", "got bits '" << s << "' (expected 1..4 or ternary)");
        c.bits = 0;
      } else {
        c.bits = b.get<int>();
      }
    }
    c.quantizer = j.value("quantizer", c.quantizer);
    c.optimal = j.value("optimal", c.optimal);
    c.per_channel = j.value("per_channel", c.per_channel);
    c.fp_stem_head = j.value("fp_stem_head", c.fp_stem_head);
    c.warmup_steps = j.value("warmup_steps", c.warmup_steps);
    c.quant_period = j.value("quant_period", c.quant_period);
    c.anneal_start_epoch = j.value("anneal_start_epoch", c.anneal_start_epoch);
    c.anneal_end_epoch = j.value("anneal_end_epoch", c.anneal_end_epoch);
    c.steepness = j.value("steepness", c.steepness);
    c.center = j.value("center", c.center);
    c.hard_from_quantizer = j.value("hard_from_quantizer", c.hard_from_quantizer);
    c.histogram_layer = j.value("histogram_layer", c.histogram_layer);
  } catch (const json::exception& e) {
    throw Error(std::string("qat config: ") + e.what() + " (a value has the wrong type)");
  }
  quant::ProxMap::kind_from_string(c.method);  // validates
  QNN_CHECK(c.bits >= 0 && c.bits <= 4, "qat config", "got bits " << c.bits << " (expected 1..4 or ternary)");
  QNN_CHECK(c.quantizer == "lsbq" || c.quantizer == "uniform", "qat config",
            "got quantizer '" << c.quantizer << "' (expected lsbq or uniform)");
  QNN_CHECK(c.warmup_steps >= 0 && c.quant_period >= 1 && c.steepness > 0.0, "qat config",
            "got warmup_steps " << c.warmup_steps << ", quant_period " << c.quant_period << ", steepness "
                                << c.steepness << " (expected >= 0, >= 1, > 0)");
  return c;
}

std::string QatConfig::bits_name() const { return bits == 0 ? "ternary" : std::to_string(bits) + "-bit"; }

namespace {

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

class QatHooks : public TrainHooks {
 public:
  QatHooks(const TrainConfig& config, int64_t num_classes, nn::Module& model, optim::Optimizer& optimizer,
           int64_t steps_per_epoch, std::ostream& log)
      : train_config_(config), config_(QatConfig::from_json(config.qat)), num_classes_(num_classes) {
    quant::QuantizerSpec spec;
    spec.bits = config_.bits;
    spec.method = config_.quantizer;
    spec.optimal = config_.optimal;
    quant::QATOptions o;
    o.warmup_steps = config_.warmup_steps;
    o.quant_period = config_.quant_period;
    o.hard_from_quantizer = config_.hard_from_quantizer;
    o.map.kind = quant::ProxMap::kind_from_string(config_.method);
    const double end_epoch =
        config_.anneal_end_epoch >= 0.0 ? config_.anneal_end_epoch : 0.75 * static_cast<double>(config.epochs);
    // Anneal bounds in epochs become steps (digest 8): epoch x steps_per_epoch.
    o.map.anneal_start = std::llround(config_.anneal_start_epoch * static_cast<double>(steps_per_epoch));
    o.map.anneal_end = std::llround(end_epoch * static_cast<double>(steps_per_epoch));
    o.map.steepness = config_.steepness;
    o.map.center = config_.center;
    qat_ = std::make_unique<quant::QATOptimizer>(
        optimizer, quant::default_qat_groups(model, spec, config_.per_channel, config_.fp_stem_head), o);
    const auto& entries = qat_->entries();
    QNN_CHECK(!entries.empty(), "qat", "the model has no Conv2d or Linear weight to quantize");
    hist_index_ = entries.size() / 2;
    if (!config_.histogram_layer.empty()) {
      hist_index_ = entries.size();
      for (size_t i = 0; i < entries.size(); ++i)
        if (entries[i].name == config_.histogram_layer || short_name(entries[i].name) == config_.histogram_layer)
          hist_index_ = i;
      QNN_CHECK(hist_index_ < entries.size(), "qat",
                "histogram_layer '" << config_.histogram_layer << "' is not a quantized weight");
    }
    int64_t n = 0;
    for (const auto& e : entries)
      n += e.param.numel();
    log << "qat: " << config_.method << ", " << spec.describe()
        << (config_.per_channel ? " per channel" : " per tensor") << ", " << entries.size() << " tensors (" << n
        << " weights) quantized" << (config_.fp_stem_head ? ", stem and head in FP" : ", stem and head included")
        << "; warmup " << o.warmup_steps << " steps, Q every " << o.quant_period << " steps, anneal steps "
        << o.map.anneal_start << ".." << o.map.anneal_end << " (epoch " << end_epoch << ")"
        << (o.map.kind == quant::ProxMap::Kind::parq ? ", steepness " + fmt(o.map.steepness) : "") << '\n';
    // The first histogram: the starting weights (epoch 0). The range is 1.3 x the 99.5th
    // percentile of |w| (a few outliers would otherwise squeeze the bulk and Q into a few bins);
    // values beyond it are counted in the end bins.
    std::vector<float> a = entries[hist_index_].param.to_vector<float>();
    for (float& v : a)
      v = std::fabs(v);
    const size_t k = std::min(a.size() - 1, static_cast<size_t>(0.995 * static_cast<double>(a.size())));
    std::nth_element(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(k), a.end());
    hist_range_ = 1.3 * std::max(a[k], 1e-6f);
    snapshot(0, "start");
  }

  void step() override { qat_->step(); }
  std::string prefix() const override { return "qat"; }
  std::vector<std::pair<std::string, Tensor>> state_tensors() const override { return qat_->state_dict().tensors; }
  json state_scalars() const override {
    json s = qat_->state_dict().scalars;
    s["histograms"] = snapshots_;
    s["histogram_range"] = hist_range_;
    return s;
  }
  void load_state(const std::vector<std::pair<std::string, Tensor>>& tensors, const json& scalars) override {
    qat_->load_state_dict(optim::StateDict{tensors, scalars});
    snapshots_ = scalars.value("histograms", json::array());
    hist_range_ = scalars.value("histogram_range", hist_range_);
  }

  std::pair<std::string, ojson> epoch_end(int64_t epoch) override {
    const quant::QATOptimizer::Report r = qat_->report();
    ojson extra;
    extra["t"] = r.t;
    extra["phase"] = r.phase;
    extra[value_name()] = r.value;
    extra["fraction_on_Q"] = r.fraction_on_Q;
    ojson Q = ojson::object();
    std::string text = "  |  " + r.phase;
    char buf[96];
    if (r.phase == "anneal") {
      std::snprintf(buf, sizeof buf, " %s %.3g", value_name().c_str(), r.value);
      text += buf;
    }
    std::snprintf(buf, sizeof buf, "  on Q %.1f%%", 100.0 * r.fraction_on_Q);
    text += buf;
    const auto& entries = qat_->entries();
    for (size_t i : {size_t{0}, entries.size() / 2, entries.size() - 1}) {
      if (entries[i].Q.empty())
        continue;
      Q[entries[i].name] = entries[i].Q[0].levels();
      if (!config_.per_channel)
        text += "  " + short_name(entries[i].name) + " " + format_levels(entries[i].Q[0].levels());
    }
    extra["Q"] = Q;
    snapshot(epoch, r.phase == "anneal" ? value_name() + " " + fmt(r.value) : r.phase);
    return {text, extra};
  }

  void finish(nn::Module& model, const std::string& run_dir,
              const std::function<EvalResult(nn::Module&)>& evaluate_model, std::ostream& log) override {
    // Pitfall 4: the deployed model is exactly on Q. With anneal_end before the last step the map
    // is already hard and the projection changes nothing.
    const int64_t moved = qat_->final_projection();
    const quant::QATOptimizer::Report r = qat_->report();
    log << "final hard projection: " << moved << " of " << r.num_quantized << " quantized weights moved onto Q ("
        << (moved == 0 ? "already exactly quantized" : "the last epoch was not yet hard") << "); on Q "
        << 100.0 * r.fraction_on_Q << "%" << std::endl;
    const EvalResult in_memory = evaluate_model(model);
    const fs::path path = fs::path(run_dir) / "quantized.safetensors";
    std::map<std::string, std::string> meta;
    meta["arch"] = train_config_.model;
    meta["dataset"] = train_config_.dataset;
    normalization_to_metadata(named_normalization(train_config_.normalize), meta);
    meta["method"] = config_.method;
    meta["bits"] = config_.bits_name();
    meta["qat"] = config_.to_json().dump();
    quant::save_quantized(path.string(), model.state_dict(), qat_->quantized_params(), meta);
    // The file must evaluate exactly like the model in memory (STYLE.md, follow 8).
    nn::ModelOptions mo;
    mo.num_classes = num_classes_;
    auto reloaded = nn::make_model(train_config_.model, mo);
    reloaded->load_state_dict(quant::load_quantized(path.string()).state, /*strict=*/true);
    const EvalResult from_file = evaluate_model(*reloaded);
    const bool same = from_file.top1 == in_memory.top1 && from_file.loss == in_memory.loss;
    char line[256];
    std::snprintf(line, sizeof line,
                  "exactly-quantized model: test top-1 %.2f%% (loss %.4f); reloaded %s: top-1 %.2f%% (loss %.4f) %s",
                  in_memory.top1, in_memory.loss, path.string().c_str(), from_file.top1, from_file.loss,
                  same ? "identical" : "DIFFERENT");
    log << line << std::endl;
    QNN_CHECK(same, "qat", "the reloaded quantized model evaluates differently from the model in memory");
    snapshot(-1, "final, on Q");
    write_histogram(run_dir);
    ojson summary;
    summary["method"] = config_.method;
    summary["bits"] = config_.bits_name();
    summary["final_top1"] = in_memory.top1;
    summary["final_loss"] = in_memory.loss;
    summary["reloaded_top1"] = from_file.top1;
    summary["moved_by_final_projection"] = moved;
    summary["quantized_weights"] = r.num_quantized;
    summary["quantized_file"] = path.string();
    std::ofstream(fs::path(run_dir) / "qat_summary.json") << summary.dump(2) << '\n';
    final_top1_ = in_memory.top1;
  }

 private:
  std::string value_name() const {
    return config_.method == "parq" ? "inv_slope" : config_.method == "binaryrelax" ? "theta" : "value";
  }
  static std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
  }

  // Histograms of the chosen layer: the latent u (filled) and the weights w = map(u) the network
  // uses (outline). Under PARQ, w gathers on Q as the slope anneals while u stays spread (the
  // digest's Fig. 11: w against u); before QAT starts, and after the final projection, there is
  // only one tensor.
  void snapshot(int64_t epoch, const std::string& label) {
    const auto& e = qat_->entries()[hist_index_];
    const bool two = epoch >= 0 && e.latent.defined();
    const Tensor& filled = two ? e.latent : e.param;
    json s;
    s["epoch"] = epoch;
    s["label"] = std::string(epoch < 0 ? "w " : two ? "" : "weights ") + label;
    s["counts"] = histogram_counts(filled.data<float>(), filled.numel(), -hist_range_, hist_range_, 120);
    if (two)
      s["counts_w"] = histogram_counts(e.param.data<float>(), e.param.numel(), -hist_range_, hist_range_, 120);
    s["levels"] = e.Q.empty() ? std::vector<float>{} : e.Q[0].levels();
    snapshots_.push_back(s);
  }

  void write_histogram(const std::string& run_dir) const {
    // At most 6 panels: the start, evenly spaced epochs, the last epoch and the final model.
    std::vector<size_t> pick;
    const size_t n = snapshots_.size();
    const size_t epochs = n >= 2 ? n - 1 : n;  // the final snapshot is the last entry
    const size_t want = std::min<size_t>(epochs, 5);
    for (size_t k = 0; k < want; ++k) {
      const size_t i = want == 1 ? 0 : k * (epochs - 1) / (want - 1);
      if (pick.empty() || pick.back() != i)
        pick.push_back(i);
    }
    if (n >= 2)
      pick.push_back(n - 1);
    Histogram h;
    h.title = train_config_.model + " " + qat_->entries()[hist_index_].name + ": " + config_.method + " " +
              config_.bits_name();
    h.lo = -hist_range_;
    h.hi = hist_range_;
    h.fill_label = "latent u";
    h.overlay_label = "w = map(u), the weights in use";
    for (size_t i : pick) {
      const json& s = snapshots_[i];
      HistogramPanel p;
      const int64_t epoch = s.at("epoch").get<int64_t>();
      p.title = (epoch < 0 ? std::string("after training") : "epoch " + std::to_string(epoch)) + ": " +
                s.at("label").get<std::string>();
      p.counts = s.at("counts").get<std::vector<int64_t>>();
      p.levels = s.at("levels").get<std::vector<float>>();
      if (s.contains("counts_w"))
        p.overlay = s.at("counts_w").get<std::vector<int64_t>>();
      h.panels.push_back(std::move(p));
    }
    std::ofstream(fs::path(run_dir) / "latent_histogram.svg") << histogram_svg(h);
  }

  TrainConfig train_config_;
  QatConfig config_;
  int64_t num_classes_;
  std::unique_ptr<quant::QATOptimizer> qat_;
  size_t hist_index_ = 0;
  double hist_range_ = 1.0;
  json snapshots_ = json::array();
  double final_top1_ = 0.0;
};

}  // namespace

std::unique_ptr<TrainHooks> make_qat_hooks(const TrainConfig& config, int64_t num_classes, nn::Module& model,
                                           optim::Optimizer& optimizer, int64_t steps_per_epoch, std::ostream& log) {
  return std::make_unique<QatHooks>(config, num_classes, model, optimizer, steps_per_epoch, log);
}

}  // namespace qnn::apps
