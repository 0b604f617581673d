#include "engine/ptq_pipeline.h"

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <sstream>

#include "core/error.h"
#include "core/ops.h"
#include "datasets/calibration.h"
#include "datasets/presets.h"
#include "engine/run_folder.h"
#include "engine/run_record.h"
#include "engine/weights.h"
#include "nn/models/registry.h"
#include "quant/ptq/bn_fold.h"
#include "quant/ptq/layers.h"

namespace qnn::engine {

namespace {

using Clock = std::chrono::steady_clock;

std::string format(const char* fmt, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c, d);
  return buf;
}

}  // namespace

quant::PtqOptions ptq_options(const PtqRunConfig& c, double C) {
  quant::PtqOptions o;
  o.method = quant::ptq_method_from_string(c.method);
  const std::string& bits = c.bits.text;
  if (bits == "ternary" || bits == "binary") {
    o.alphabet.family = quant::alphabet_family_from_string(bits);
  } else {
    o.alphabet.family = quant::alphabet_family_from_string(c.alphabet);
    try {
      size_t used = 0;
      o.alphabet.bits = std::stoi(bits, &used);
      if (used != bits.size())
        throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw Error("ptq: got --bits " + bits + " (expected 1..16, ternary or binary)");
    }
    QNN_CHECK(o.alphabet.bits >= 1 && o.alphabet.bits <= 16, "ptq", "got --bits " << bits << " (expected 1..16)");
  }
  QNN_CHECK(std::isfinite(C) && C > 0, "ptq", "got C = " << C << " (expected C > 0)");
  o.alphabet.C = C;
  o.alphabet.per_channel = c.per_channel;
  if (!c.bits_per_layer.empty())
    o.plan = quant::BitPlan::from_file(c.bits_per_layer);
  o.m = c.m;
  o.p = c.p;
  o.lambda = static_cast<float>(c.lambda);
  o.hard_keep_qmax = c.hard_keep_qmax;
  o.bias_correct = c.bias_correct;
  o.seed = c.seed;
  if (c.form == "direct")
    o.form = quant::GpfqForm::direct;
  else if (c.form == "gram")
    o.form = quant::GpfqForm::gram;
  else
    QNN_CHECK(c.form == "auto", "ptq", "got --form " << c.form << " (expected auto, direct or gram)");
  QNN_CHECK(o.m > 0, "ptq", "got m = " << o.m << " (expected m > 0)");
  QNN_CHECK(std::isfinite(c.lambda) && c.lambda >= 0, "ptq", "got lambda = " << c.lambda << " (expected lambda >= 0)");
  QNN_CHECK(o.p > 0 && o.p <= 1, "ptq", "got p = " << o.p << " (expected 0 < p <= 1)");
  return o;
}

namespace {

void print_layer(std::ostream& log, size_t index, size_t count, const quant::LayerReport& r) {
  char buf[512];
  if (r.relative_error >= 0)
    std::snprintf(buf, sizeof buf,
                  "  [%2zu/%zu] %-22s %-6s X %7lld x %-4lld -> %-4lld %-15s capture %6.2f s  %s %6.3f s  err %.4f\n",
                  index, count, r.name.c_str(), r.kind.c_str(), static_cast<long long>(r.rows),
                  static_cast<long long>(r.columns), static_cast<long long>(r.neurons), r.precision.c_str(),
                  r.capture_seconds, r.gram ? "gram  " : "direct", r.quantize_seconds, r.relative_error);
  else
    std::snprintf(buf, sizeof buf, "  [%2zu/%zu] %-22s %-6s %-15s %s\n", index, count, r.name.c_str(), r.kind.c_str(),
                  r.precision.c_str(), r.alphabet.c_str());
  log << buf << std::flush;
}

std::string eval_line(const char* label, const EvalResult& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-10s top-1 %6.2f%%  top-5 %6.2f%%  loss %.4f  (%lld images, %.1f s)%s\n", label,
                r.top1, r.top5, r.loss, static_cast<long long>(r.count), r.seconds,
                r.nonfinite ? "  NON-FINITE LOGITS: no accuracy" : "");
  return buf;
}

nlohmann::ordered_json eval_json(const EvalResult& r) {
  return {{"top1", r.top1},    {"top5", r.top5},       {"loss", r.loss},
          {"images", r.count}, {"seconds", r.seconds}, {"nonfinite", r.nonfinite}};
}

}  // namespace

std::vector<double> parse_range(const std::string& text) {
  double a = 0, b = 0, s = 0;
  char c1 = 0, c2 = 0;
  int n = std::sscanf(text.c_str(), "%lf%c%lf%c%lf", &a, &c1, &b, &c2, &s);
  QNN_CHECK(n == 5 && c1 == ':' && c2 == ':' && s > 0 && b >= a, "ptq --search-C",
            "got '" << text << "' (expected FROM:TO:STEP with STEP > 0 and TO >= FROM, e.g. 1.0:2.0:0.05)");
  // A grid is a few dozen points; bound it before it is built (1:inf:1 or a step of 1e-12 would
  // grow until memory runs out).
  constexpr double kMaxPoints = 10000;
  QNN_CHECK(std::isfinite(a) && std::isfinite(b) && (b - a) / s + 1 <= kMaxPoints, "ptq --search-C",
            "got '" << text << "', " << (b - a) / s + 1 << " points (expected finite bounds and at most " << kMaxPoints
                    << " points)");
  std::vector<double> values;
  for (int64_t i = 0;; ++i) {
    const double v = a + static_cast<double>(i) * s;
    if (v > b + 1e-9 * std::max(1.0, std::fabs(b)))
      break;
    values.push_back(std::round(v * 1e9) / 1e9);
  }
  return values;
}

std::string PtqRunConfig::run_dir() const {
  if (out_dir.empty())
    return "";
  const std::string name =
      run_name.empty() ? "ptq-" + model + "-" + method + "-" + bits.text + "-seed" + std::to_string(seed) : run_name;
  return (std::filesystem::path(out_dir) / name).string();
}

std::string PtqRunConfig::bits_name() const {
  return bits.text == "ternary" || bits.text == "binary" ? bits.text : bits.text + "-bit";
}

PtqObserver ptq_log_observer(std::ostream& log) {
  PtqObserver o;
  o.on_eval = [&log](const std::string& label, const EvalResult& r) {
    log << eval_line(label.c_str(), r) << std::flush;
  };
  o.on_search_point = [&log](const PtqRunResult::SearchPoint& p) {
    log << format("  C = %.3f  held-out loss %.4f  top-1 %.2f%%  (%.1f s)\n", p.C, p.loss, p.top1, p.seconds)
        << std::flush;
  };
  o.on_layer = [&log](size_t index, size_t count, const quant::LayerReport& r) { print_layer(log, index, count, r); };
  o.on_message = [&log](const std::string& text) { log << text << std::flush; };
  return o;
}

nlohmann::ordered_json PtqRunResult::to_json() const {
  nlohmann::ordered_json j;
  if (fp.count)
    j["fp"] = eval_json(fp);
  if (rtn.count)
    j["rtn"] = eval_json(rtn);
  if (quantized.count)
    j["quantized"] = eval_json(quantized);
  j["C"] = C;
  nlohmann::ordered_json curve = nlohmann::ordered_json::array();
  for (const auto& p : search_curve)
    curve.push_back({{"C", p.C}, {"holdout_top1", p.top1}, {"holdout_loss", p.loss}});
  j["search_curve"] = curve;
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const auto& r : ptq.layers)
    layers.push_back({{"name", r.name},
                      {"kind", r.kind},
                      {"precision", r.precision},
                      {"alphabet", r.alphabet},
                      {"rows", r.rows},
                      {"columns", r.columns},
                      {"neurons", r.neurons},
                      {"capture_seconds", r.capture_seconds},
                      {"quantize_seconds", r.quantize_seconds},
                      {"relative_error", r.relative_error},
                      {"gram", r.gram}});
  j["layers"] = layers;
  j["float_layers"] = ptq.float_layers;
  j["ptq_seconds"] = ptq.seconds;
  j["sparsity"] = sparsity;
  j["file_bytes"] = file_bytes;
  j["float_bytes"] = float_bytes;
  j["peak_rss_mib"] = peak_rss_mib;
  j["total_seconds"] = total_seconds;
  return j;
}

double search_C(const PtqRunConfig& config, nn::Module& analog,
                const std::function<std::shared_ptr<nn::Module>()>& copy, std::shared_ptr<const data::Dataset> pool,
                std::shared_ptr<const data::Dataset> holdout, const std::vector<double>& grid,
                std::vector<PtqRunResult::SearchPoint>& curve, const PtqObserver& observer) {
  // The held-out images are training images, which the trained model classifies almost
  // perfectly (~99% top-1 for the CIFAR ResNets), so top-1 barely moves with C; their mean
  // cross-entropy does, and it chooses C (lowest loss; top-1 printed beside it).
  EvalOptions eval_options;
  eval_options.batch_size = config.eval_batch;
  eval_options.workers = config.workers;
  double best = INFINITY, chosen = config.C;
  for (double C : grid) {
    PtqRunConfig small = config;
    small.m = config.search_m;
    const quant::PtqOptions o = ptq_options(small, C);
    auto model = copy();
    if (o.method == quant::PtqMethod::rtn) {
      quant::rtn(*model, o);
    } else {
      data::CalibrationStream stream(pool, config.seed + 17);
      quant::gpfq(
          analog, *model, [&](int64_t m) { return stream.next(m); }, o);
    }
    const EvalResult r = evaluate(*model, holdout, eval_options);
    curve.push_back({C, r.top1, r.loss, r.seconds});
    if (observer.on_search_point)
      observer.on_search_point(curve.back());
    if (r.loss < best) {
      best = r.loss;
      chosen = C;
    }
  }
  if (observer.on_message)
    observer.on_message(format("chose C = %.3f (held-out loss %.4f)\n", chosen, best));
  return chosen;
}

PtqRunResult run_ptq(const PtqRunConfig& config, const PtqObserver& observer) {
  const auto start = Clock::now();
  auto say = [&](const std::string& text) {
    if (observer.on_message)
      observer.on_message(text);
  };
  auto report = [&](const std::string& label, const EvalResult& r) {
    if (observer.on_eval)
      observer.on_eval(label, r);
  };
  PtqRunResult result;
  const quant::PtqOptions base_options = ptq_options(config, config.C);  // validates the flags early
  std::vector<double> grid;
  if (!config.search_C.empty())
    grid = parse_range(config.search_C);
  if (!config.out.empty()) {
    const std::filesystem::path out(config.out), parent = out.has_parent_path() ? out.parent_path() : ".";
    std::error_code ec;
    QNN_CHECK(std::filesystem::is_directory(parent, ec), "ptq --out",
              config.out << ": the folder " << parent.string() << " does not exist (expected an existing folder)");
    QNN_CHECK(!std::filesystem::exists(out, ec) || std::filesystem::is_regular_file(out, ec), "ptq --out",
              config.out << " exists and is not a regular file (expected a new path or a file to replace)");
  }
  const std::string run_dir = config.run_dir();
  if (!run_dir.empty())
    QNN_CHECK(!std::filesystem::exists(std::filesystem::path(run_dir) / "result.json"), "ptq",
              run_dir << " already holds a finished run (expected a new --name or --out-dir)");

  // ---- the trained model ----
  nn::ModelOptions model_options;
  model_options.num_classes = data::dataset_num_classes(config.dataset);
  Generator init_gen(config.seed);
  model_options.gen = &init_gen;
  std::shared_ptr<nn::Module> analog = nn::make_model(config.model, model_options);
  if (!config.weights.empty())
    load_weights(*analog, config.weights);
  else
    say("warning: no --weights: the model keeps its random initialisation (pipeline check only)\n");
  analog->eval();
  std::string norm_source;
  const data::Normalization norm =
      resolve_normalization(config.normalize, config.weights, config.dataset, &norm_source);
  if (config.fold_bn) {
    const auto pairs = quant::fold_batchnorm(*analog);
    say("folded " + std::to_string(pairs.size()) + " batch norms into their convolutions (P2 (50))\n");
  }
  auto copy_of_analog = [&] {
    std::shared_ptr<nn::Module> copy = nn::make_model(config.model, model_options);
    copy->load_state_dict(analog->state_dict());
    copy->eval();
    return copy;
  };

  // ---- data: calibration from the training set, accuracy on the test set ----
  const bool need_train = base_options.method != quant::PtqMethod::rtn || !grid.empty() || config.bias_correct;
  const data::ClassificationData data =
      data::load_classification_data(config.dataset, config.data_dir, norm, need_train, /*augment=*/false);
  const std::shared_ptr<const data::Dataset> test = data::first_n(data.test, config.test_limit);
  std::shared_ptr<const data::Dataset> pool = data.train, holdout;
  if (need_train && !grid.empty()) {
    // A seeded split of the training set: the held-out images choose C and never calibrate.
    const int64_t n = data.train->size();
    QNN_CHECK(config.holdout > 0 && config.holdout < n, "ptq --search-C",
              "got --holdout " << config.holdout << " (expected 0 < holdout < " << n << " training images)");
    std::vector<int64_t> order(n);
    for (int64_t i = 0; i < n; ++i)
      order[i] = i;
    Generator split_gen(config.seed + 0x5eed);
    for (int64_t i = n - 1; i > 0; --i)
      std::swap(order[i], order[split_gen.integer(0, i + 1)]);
    holdout =
        std::make_shared<data::Subset>(data.train, std::vector<int64_t>(order.end() - config.holdout, order.end()));
    pool =
        std::make_shared<data::Subset>(data.train, std::vector<int64_t>(order.begin(), order.end() - config.holdout));
  }
  EvalOptions eval_options;
  eval_options.batch_size = config.eval_batch;
  eval_options.workers = config.workers;

  if (!config.skip_fp) {
    result.fp = evaluate(*analog, test, eval_options);
    report("float", result.fp);
  }
  // ---- C: given, or chosen on the held-out training images ----
  result.C = config.C;
  if (!grid.empty()) {
    say("choosing C on " + std::to_string(holdout->size()) +
        " held-out training images (lowest loss), m = " + std::to_string(config.search_m) + ":\n");
    result.C = search_C(config, *analog, copy_of_analog, pool, holdout, grid, result.search_curve, observer);
  }

  // ---- the quantization pass ----
  const quant::PtqOptions options = ptq_options(config, result.C);
  if (!config.skip_rtn && base_options.method != quant::PtqMethod::rtn) {
    auto model = copy_of_analog();
    quant::rtn(*model, options);  // the same alphabets (and C) as the method
    result.rtn = evaluate(*model, test, eval_options);
    report("rtn", result.rtn);
  }

  std::shared_ptr<nn::Module> quantized = copy_of_analog();
  const size_t layer_count = quant::quantizable_layers(*quantized).size();
  size_t index = 0;
  auto on_layer = [&](const quant::LayerReport& r) {
    ++index;
    if (observer.on_layer)
      observer.on_layer(index, layer_count, r);
  };
  {
    const bool word = config.bits.text == "ternary" || config.bits.text == "binary";
    std::ostringstream line;
    line << config.method << ", " << config.bits_name() << " " << (word ? "" : config.alphabet) << ", C = " << result.C;
    if (options.method != quant::PtqMethod::rtn)
      line << ", m = " << config.m << ", p = " << config.p;
    if (config.lambda > 0)
      line << ", lambda = " << config.lambda;
    line << (config.bias_correct ? ", last layer float + bias correction" : "") << ":\n";
    say(line.str());
  }
  if (options.method == quant::PtqMethod::rtn) {
    result.ptq = quant::rtn(*quantized, options, on_layer);
  } else {
    data::CalibrationStream stream(pool, config.seed + 1);
    result.ptq = quant::gpfq(
        *analog, *quantized, [&](int64_t m) { return stream.next(m); }, options, on_layer);
    if (stream.reshuffles())
      say("note: the calibration images were used up and reshuffled " + std::to_string(stream.reshuffles()) +
          " time(s) (layers x m > training images)\n");
  }
  say(format("quantized %.0f layers in %.1f s\n", static_cast<double>(result.ptq.layers.size()), result.ptq.seconds));
  result.quantized = evaluate(*quantized, test, eval_options);
  report(config.method, result.quantized);
  result.sparsity = quant::weight_sparsity(*quantized);

  // ---- save: codes + levels, with what it takes to reproduce the run ----
  for (const auto& [name, t] : quantized->state_dict())
    result.float_bytes += t.numel() * 4;
  std::unique_ptr<RunFolder> folder;
  if (!run_dir.empty())
    folder = std::make_unique<RunFolder>(run_dir);
  const std::string out = !config.out.empty() ? config.out : folder ? folder->path("quantized.safetensors") : "";
  nlohmann::json resolved = config.to_json();
  resolved["C"] = result.C;
  if (!out.empty()) {
    std::map<std::string, std::string> meta;
    normalization_to_metadata(norm, meta);
    meta["qnn_ptq_config"] = resolved.dump();
    meta["method"] = config.method;
    meta["bits"] = config.bits.text;
    meta["C"] = std::to_string(result.C);
    meta["m"] = std::to_string(config.m);
    meta["seed"] = std::to_string(config.seed);
    meta["model"] = config.model;
    quant::save_quantized(out, quantized->state_dict(), result.ptq.quantized, meta);
    result.file_bytes = static_cast<int64_t>(std::filesystem::file_size(out));
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  result.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  result.total_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  say(format("sparsity %.2f%%  peak RSS %.0f MiB  total %.1f s\n", 100.0 * result.sparsity, result.peak_rss_mib,
             result.total_seconds));
  if (!out.empty())
    say("saved " + out + ": " +
        format("%.1f KiB (float32 %.1f KiB, %.1f%%)\n", result.file_bytes / 1024.0, result.float_bytes / 1024.0,
               100.0 * result.file_bytes / std::max<int64_t>(1, result.float_bytes)));
  if (folder) {
    folder->write_json("config.json", resolved);
    folder->record("created", environment_record());
    folder->record("config", resolved);
    folder->record("seeds", {{"seed", config.seed},
                             {"streams",
                              "model init: seed; calibration order: seed + 1; C search calibration: "
                              "seed + 17; held-out split: seed + 0x5eed; patch sampling: seed"}});
    folder->record("normalization", normalization_record(norm, norm_source));
    folder->record("quantized", quantized_record(result.ptq.quantized, config.bits_name()));
    folder->write_json("result.json", result.to_json());
    say("run folder " + folder->dir() + "\n");
  }
  return result;
}

}  // namespace qnn::engine
