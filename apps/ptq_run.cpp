#include "apps/ptq_run.h"

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>

#include "apps/data_setup.h"
#include "apps/weights.h"
#include "core/error.h"
#include "core/ops.h"
#include "nn/models/registry.h"
#include "quant/ptq/bn_fold.h"
#include "quant/ptq/layers.h"

namespace qnn::apps {

namespace {

using Clock = std::chrono::steady_clock;

int64_t classes_of(const std::string& dataset) {
  if (dataset == "cifar100")
    return 100;
  if (dataset == "imagenet")
    return 1000;
  return 10;
}

std::string format(const char* fmt, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, a, b, c, d);
  return buf;
}

// Calibration images: the training set in a seeded random order, m at a time, each batch fresh
// (Algorithm 1 draws a new batch X_i per layer); when the order is used up it is reshuffled.
class CalibrationStream {
 public:
  CalibrationStream(std::shared_ptr<const data::Dataset> pool, uint64_t seed) : pool_(std::move(pool)), gen_(seed) {
    shuffle();
  }
  Tensor next(int64_t m) {
    QNN_CHECK(m <= pool_->size(), "ptq",
              "m = " << m << " calibration images per layer is more than the " << pool_->size()
                     << " training images available (expected m <= " << pool_->size() << ")");
    if (cursor_ + m > pool_->size()) {
      shuffle();
      ++reshuffles_;
    }
    std::vector<Tensor> images;
    images.reserve(m);
    Generator unused(0);  // the evaluation transform draws nothing
    for (int64_t i = 0; i < m; ++i)
      images.push_back(pool_->get(order_[cursor_ + i], unused).image);
    cursor_ += m;
    return stack(images, 0);
  }
  int64_t reshuffles() const { return reshuffles_; }

 private:
  void shuffle() {
    order_.resize(pool_->size());
    for (int64_t i = 0; i < pool_->size(); ++i)
      order_[i] = i;
    for (int64_t i = pool_->size() - 1; i > 0; --i)
      std::swap(order_[i], order_[gen_.integer(0, i + 1)]);
    cursor_ = 0;
  }
  std::shared_ptr<const data::Dataset> pool_;
  Generator gen_;
  std::vector<int64_t> order_;
  int64_t cursor_ = 0, reshuffles_ = 0;
};

quant::PtqOptions ptq_options(const PtqRunConfig& c, double C) {
  quant::PtqOptions o;
  o.method = quant::ptq_method_from_string(c.method);
  if (c.bits == "ternary" || c.bits == "binary") {
    o.alphabet.family = quant::alphabet_family_from_string(c.bits);
  } else {
    o.alphabet.family = quant::alphabet_family_from_string(c.alphabet);
    try {
      size_t used = 0;
      o.alphabet.bits = std::stoi(c.bits, &used);
      if (used != c.bits.size())
        throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw Error("ptq: got --bits " + c.bits + " (expected 1..16, ternary or binary)");
    }
    QNN_CHECK(o.alphabet.bits >= 1 && o.alphabet.bits <= 16, "ptq", "got --bits " << c.bits << " (expected 1..16)");
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
  QNN_CHECK(o.p > 0 && o.p <= 1, "ptq", "got p = " << o.p << " (expected 0 < p <= 1)");
  return o;
}

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
  std::snprintf(buf, sizeof buf, "%-10s top-1 %6.2f%%  top-5 %6.2f%%  loss %.4f  (%lld images, %.1f s)\n", label,
                r.top1, r.top5, r.loss, static_cast<long long>(r.count), r.seconds);
  return buf;
}

nlohmann::ordered_json eval_json(const EvalResult& r) {
  return {{"top1", r.top1}, {"top5", r.top5}, {"loss", r.loss}, {"images", r.count}, {"seconds", r.seconds}};
}

}  // namespace

std::vector<double> parse_range(const std::string& text) {
  double a = 0, b = 0, s = 0;
  char c1 = 0, c2 = 0;
  int n = std::sscanf(text.c_str(), "%lf%c%lf%c%lf", &a, &c1, &b, &c2, &s);
  QNN_CHECK(n == 5 && c1 == ':' && c2 == ':' && s > 0 && b >= a, "ptq --search-C",
            "got '" << text << "' (expected FROM:TO:STEP with STEP > 0 and TO >= FROM, e.g. 1.0:2.0:0.05)");
  std::vector<double> values;
  for (int64_t i = 0;; ++i) {
    const double v = a + static_cast<double>(i) * s;
    if (v > b + 1e-9 * std::max(1.0, std::fabs(b)))
      break;
    values.push_back(std::round(v * 1e9) / 1e9);
  }
  return values;
}

nlohmann::ordered_json PtqRunConfig::to_json() const {
  nlohmann::ordered_json j;
  j["model"] = model;
  j["weights"] = weights;
  j["dataset"] = dataset;
  j["data_dir"] = data_dir;
  j["normalize"] = normalize;
  j["method"] = method;
  j["bits"] = bits;
  j["alphabet"] = alphabet;
  j["C"] = C;
  j["m"] = m;
  j["p"] = p;
  j["lambda"] = lambda;
  j["fold_bn"] = fold_bn;
  j["bias_correct"] = bias_correct;
  j["per_channel"] = per_channel;
  j["hard_keep_qmax"] = hard_keep_qmax;
  j["bits_per_layer"] = bits_per_layer;
  j["search_C"] = search_C;
  j["search_m"] = search_m;
  j["holdout"] = holdout;
  j["form"] = form;
  j["seed"] = seed;
  j["eval_batch"] = eval_batch;
  j["workers"] = workers;
  j["test_limit"] = test_limit;
  j["skip_fp"] = skip_fp;
  j["skip_rtn"] = skip_rtn;
  j["out"] = out;
  return j;
}

PtqRunConfig PtqRunConfig::from_json(const nlohmann::json& j) {
  PtqRunConfig c;
  const nlohmann::ordered_json known = c.to_json();
  for (const auto& [key, value] : j.items()) {
    QNN_CHECK(known.contains(key), "ptq config", "unknown key '" << key << "'");
    (void)value;
  }
  auto get = [&](const char* key, auto& field) {
    if (!j.contains(key))
      return;
    try {
      j[key].get_to(field);
    } catch (const nlohmann::json::exception& e) {
      throw Error(std::string("ptq config: key '") + key + "': " + e.what());
    }
  };
  get("model", c.model);
  get("weights", c.weights);
  get("dataset", c.dataset);
  get("data_dir", c.data_dir);
  get("normalize", c.normalize);
  get("method", c.method);
  if (j.contains("bits") && j["bits"].is_number_integer())  // "bits": 4 as well as "bits": "ternary"
    c.bits = std::to_string(j["bits"].get<int>());
  else
    get("bits", c.bits);
  get("alphabet", c.alphabet);
  get("C", c.C);
  get("m", c.m);
  get("p", c.p);
  get("lambda", c.lambda);
  get("fold_bn", c.fold_bn);
  get("bias_correct", c.bias_correct);
  get("per_channel", c.per_channel);
  get("hard_keep_qmax", c.hard_keep_qmax);
  get("bits_per_layer", c.bits_per_layer);
  get("search_C", c.search_C);
  get("search_m", c.search_m);
  get("holdout", c.holdout);
  get("form", c.form);
  get("seed", c.seed);
  get("eval_batch", c.eval_batch);
  get("workers", c.workers);
  get("test_limit", c.test_limit);
  get("skip_fp", c.skip_fp);
  get("skip_rtn", c.skip_rtn);
  get("out", c.out);
  return c;
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

PtqRunResult run_ptq(const PtqRunConfig& config, std::ostream& log) {
  const auto start = Clock::now();
  PtqRunResult result;
  const quant::PtqOptions base_options = ptq_options(config, config.C);  // validates the flags early
  std::vector<double> grid;
  if (!config.search_C.empty())
    grid = parse_range(config.search_C);

  // ---- the trained model ----
  nn::ModelOptions model_options;
  model_options.num_classes = classes_of(config.dataset);
  Generator init_gen(config.seed);
  model_options.gen = &init_gen;
  std::shared_ptr<nn::Module> analog = nn::make_model(config.model, model_options);
  std::map<std::string, std::string> weights_meta;
  if (!config.weights.empty())
    weights_meta = load_weights(*analog, config.weights);
  else
    log << "warning: no --weights: the model keeps its random initialisation (pipeline check only)\n";
  analog->eval();
  Normalization norm = named_normalization(config.dataset == "imagenet" ? "imagenet" : "cifar10");
  if (config.normalize != "auto")
    norm = named_normalization(config.normalize);
  else
    normalization_from_metadata(weights_meta, norm);
  if (config.fold_bn) {
    const auto pairs = quant::fold_batchnorm(*analog);
    log << "folded " << pairs.size() << " batch norms into their convolutions (P2 (50))\n";
  }
  auto copy_of_analog = [&] {
    std::shared_ptr<nn::Module> copy = nn::make_model(config.model, model_options);
    copy->load_state_dict(analog->state_dict());
    copy->eval();
    return copy;
  };

  // ---- data: calibration from the training set, accuracy on the test set ----
  const bool need_train = base_options.method != quant::PtqMethod::rtn || !grid.empty() || config.bias_correct;
  ClassificationData data =
      load_classification_data(config.dataset, config.data_dir, norm, need_train, /*augment=*/false);
  std::shared_ptr<const data::Dataset> test = data.test;
  if (config.test_limit > 0 && config.test_limit < test->size()) {
    std::vector<int64_t> idx(config.test_limit);
    for (int64_t i = 0; i < config.test_limit; ++i)
      idx[i] = i;
    test = std::make_shared<data::Subset>(test, idx);
  }
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
    log << eval_line("float", result.fp) << std::flush;
  }
  // ---- C: given, or chosen on the held-out training images (P2 section 5.1: grid over [1, 2],
  // small m) ----
  result.C = config.C;
  if (!grid.empty()) {
    // The held-out images are training images, which the trained model classifies almost
    // perfectly (~99% top-1 for the CIFAR ResNets), so top-1 barely moves with C; their mean
    // cross-entropy does, and it chooses C (lowest loss; top-1 printed beside it).
    log << "choosing C on " << holdout->size() << " held-out training images (lowest loss), m = " << config.search_m
        << ":\n";
    double best = INFINITY;
    for (double C : grid) {
      PtqRunConfig small = config;
      small.m = config.search_m;
      quant::PtqOptions o = ptq_options(small, C);
      auto model = copy_of_analog();
      if (o.method == quant::PtqMethod::rtn) {
        quant::rtn(*model, o);
      } else {
        CalibrationStream stream(pool, config.seed + 17);
        quant::gpfq(
            *analog, *model, [&](int64_t m) { return stream.next(m); }, o);
      }
      const EvalResult r = evaluate(*model, holdout, eval_options);
      result.search_curve.push_back({C, r.top1, r.loss});
      log << format("  C = %.3f  held-out loss %.4f  top-1 %.2f%%  (%.1f s)\n", C, r.loss, r.top1, r.seconds)
          << std::flush;
      if (r.loss < best) {
        best = r.loss;
        result.C = C;
      }
    }
    log << format("chose C = %.3f (held-out loss %.4f)\n", result.C, best);
  }

  // ---- the quantization pass ----
  const quant::PtqOptions options = ptq_options(config, result.C);
  if (!config.skip_rtn && base_options.method != quant::PtqMethod::rtn) {
    auto model = copy_of_analog();
    quant::rtn(*model, options);  // the same alphabets (and C) as the method
    result.rtn = evaluate(*model, test, eval_options);
    log << eval_line("rtn", result.rtn) << std::flush;
  }

  std::shared_ptr<nn::Module> quantized = copy_of_analog();
  const size_t layer_count = quant::quantizable_layers(*quantized).size();
  size_t index = 0;
  auto on_layer = [&](const quant::LayerReport& r) { print_layer(log, ++index, layer_count, r); };
  log << config.method << ", "
      << (config.bits == "ternary" || config.bits == "binary" ? config.bits : config.bits + "-bit") << " "
      << (config.bits == "ternary" || config.bits == "binary" ? "" : config.alphabet) << ", C = " << result.C;
  if (options.method != quant::PtqMethod::rtn)
    log << ", m = " << config.m << ", p = " << config.p;
  if (config.lambda > 0)
    log << ", lambda = " << config.lambda;
  log << (config.bias_correct ? ", last layer float + bias correction" : "") << ":\n" << std::flush;
  if (options.method == quant::PtqMethod::rtn) {
    result.ptq = quant::rtn(*quantized, options, on_layer);
  } else {
    CalibrationStream stream(pool, config.seed + 1);
    result.ptq = quant::gpfq(
        *analog, *quantized, [&](int64_t m) { return stream.next(m); }, options, on_layer);
    if (stream.reshuffles())
      log << "note: the calibration images were used up and reshuffled " << stream.reshuffles()
          << " time(s) (layers x m > training images)\n";
  }
  log << format("quantized %.0f layers in %.1f s\n", static_cast<double>(result.ptq.layers.size()), result.ptq.seconds);
  result.quantized = evaluate(*quantized, test, eval_options);
  log << eval_line(config.method.c_str(), result.quantized);
  result.sparsity = quant::weight_sparsity(*quantized);

  // ---- save: codes + levels, with what it takes to reproduce the run ----
  for (const auto& [name, t] : quantized->state_dict())
    result.float_bytes += t.numel() * 4;
  if (!config.out.empty()) {
    std::map<std::string, std::string> meta;
    normalization_to_metadata(norm, meta);
    nlohmann::ordered_json cfg = config.to_json();
    cfg["C"] = result.C;
    meta["qnn_ptq_config"] = cfg.dump();
    meta["method"] = config.method;
    meta["bits"] = config.bits;
    meta["C"] = std::to_string(result.C);
    meta["m"] = std::to_string(config.m);
    meta["seed"] = std::to_string(config.seed);
    meta["model"] = config.model;
    quant::save_quantized(config.out, quantized->state_dict(), result.ptq.quantized, meta);
    result.file_bytes = static_cast<int64_t>(std::filesystem::file_size(config.out));
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  result.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  result.total_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  log << format("sparsity %.2f%%  peak RSS %.0f MiB  total %.1f s\n", 100.0 * result.sparsity, result.peak_rss_mib,
                result.total_seconds);
  if (!config.out.empty())
    log << "saved " << config.out << ": "
        << format("%.1f KiB (float32 %.1f KiB, %.1f%%)\n", result.file_bytes / 1024.0, result.float_bytes / 1024.0,
                  100.0 * result.file_bytes / std::max<int64_t>(1, result.float_bytes));
  return result;
}

}  // namespace qnn::apps
