// `qnn qat --model resnet20 --data DIR --method ste|binaryrelax|parq --bits 1|2|3|4|ternary ...` or
// `--config apps/configs/parq/resnet20_cifar10_2bit.json` (flags override the file): quantization-
// aware training (engine/qat_training.h) with the trainer of `qnn train` (same progress bar, epoch
// lines, run folder, checkpoints and --resume), plus the QAT report per epoch, the final hard
// projection, the model saved quantized (run folder/quantized.safetensors) and the histogram of
// one layer's latent weights drawn to latent_histogram.svg. Ctrl-C stops after the current step
// and saves a checkpoint.
#include <fstream>
#include <iostream>
#include <memory>

#include "apps/commands.h"
#include "apps/interrupt.h"
#include "apps/svg_histogram.h"
#include "apps/training_flags.h"
#include "core/parallel.h"
#include "engine/qat_training.h"

namespace qnn::apps {

namespace {

struct QatFlags {
  std::string config_file, resume;
  bool overwrite = false;
  std::shared_ptr<nlohmann::json> overrides =
      std::make_shared<nlohmann::json>(nlohmann::json::object());  // TrainConfig keys
  nlohmann::json qat_overrides = nlohmann::json::object();         // keys of its "qat" section
};

// The defaults of `qnn qat` without a config: the CIFAR recipe of the PARQ paper (Section 5):
// wd 2e-4 (not on biases, as the authors' code), LR x0.1 at 40%/60%/75% of the epochs (80/120/150
// of 200).
nlohmann::json qat_defaults(int64_t epochs) {
  nlohmann::json milestones = nlohmann::json::array();
  for (double f : {0.4, 0.6, 0.75}) {
    const int64_t m = static_cast<int64_t>(f * static_cast<double>(epochs));
    if (m > 0 && (milestones.empty() || milestones.back().get<int64_t>() < m))
      milestones.push_back(m);
  }
  nlohmann::json j;
  j["weight_decay"] = 2e-4;
  j["no_decay_bias"] = true;  // the paper's code exempts biases only (BN gamma is decayed)
  j["schedule"] = milestones.empty()
                      ? nlohmann::json{{"name", "constant"}}
                      : nlohmann::json{{"name", "multistep"}, {"milestones", milestones}, {"gamma", 0.1}};
  return j;
}

// The TrainConfig defaults of `qnn qat` (for help texts: 200 epochs).
nlohmann::json qat_train_defaults() {
  nlohmann::json d = engine::TrainConfig{}.to_json();
  const nlohmann::json changes = qat_defaults(d.at("epochs").get<int64_t>());
  for (const auto& [key, value] : changes.items())
    d[key] = value;
  d["run_name"] = "<model>-<dataset>-<method>-<bits>-seed<seed>";
  return d;
}

void run_qat(const QatFlags& flags) {
  nlohmann::json j = merge_config(flags.config_file, *flags.overrides, "qat --config");
  if (flags.config_file.empty()) {
    const nlohmann::json defaults = qat_defaults(j.value("epochs", engine::TrainConfig{}.epochs));
    for (const auto& [key, value] : defaults.items())
      if (!j.contains(key))
        j[key] = value;
  }
  nlohmann::json qat_json = j.value("qat", nlohmann::json::object());
  j.erase("qat");
  for (const auto& [key, value] : flags.qat_overrides.items())
    qat_json[key] = value;
  const quant::QatConfig qc = quant::QatConfig::from_json(qat_json);
  if (j.value("run_name", std::string()).empty())
    j["run_name"] = j.value("model", std::string("resnet20")) + "-" + j.value("dataset", std::string("cifar10")) + "-" +
                    qc.method + "-" + qc.bits_name() + "-seed" + std::to_string(j.value("seed", uint64_t{1}));
  engine::TrainConfig config = engine::TrainConfig::from_json(j);
  config.overwrite = flags.overwrite;
  std::cout << "qnn qat: " << config.model << " on " << config.dataset << ", " << qc.method << " " << qc.bits_name()
            << ", " << config.epochs << " epochs, batch " << config.batch << ", " << num_threads()
            << " threads; run folder " << config.run_dir() << std::endl;
  const data::ClassificationData data = load_training_data(config, j.contains("lr"), engine::TrainConfig{}.lr);
  engine::TrainCallbacks callbacks =
      terminal_callbacks(config, data, [](const engine::EpochMetrics& m) { return engine::qat_epoch_text(m.extra); });
  callbacks.on_finish = [](nn::Module&, engine::RunFolder& folder) { write_latent_histogram_svg(folder.dir()); };
  engine::TrainResult r;
  {
    const StopOnInterrupt interrupt;
    r = engine::train_qat(config, qc, data, callbacks, flags.resume, interrupt.flag());
  }
  if (!r.interrupted && !r.history.empty())
    std::printf("done: last-epoch test top-1 %.2f%%; quantized model in %s/quantized.safetensors\n",
                r.history.back().test_top1, r.run_dir.c_str());
}

template <class T>
void qat_option(CLI::App* cmd, const std::shared_ptr<QatFlags>& flags, const std::string& name, const std::string& key,
                const std::string& help) {
  cmd->add_option_function<T>(
      name, [flags, key](const T& value) { flags->qat_overrides[key] = value; },
      help + " (default " + default_text<quant::QatConfig>(key) + ")");
}

template <class T>
void qat_flag(CLI::App* cmd, const std::shared_ptr<QatFlags>& flags, const std::string& name, const std::string& key,
              const std::string& help) {
  cmd->add_flag(
      name, [flags, key](int64_t) { flags->qat_overrides[key] = true; },
      help + " (default " + default_text<quant::QatConfig>(key) + ")");
}

}  // namespace

void add_qat_command(CLI::App& app) {
  auto flags = std::make_shared<QatFlags>();
  auto* cmd = app.add_subcommand("qat", "Quantization-aware training: STE, BinaryRelax or PARQ (or --resume a run)");
  cmd->add_option("--config", flags->config_file, "JSON config (e.g. apps/configs/parq/resnet20_cifar10_2bit.json)");
  cmd->add_option("--resume", flags->resume, "Continue from a run's last.safetensors");
  cmd->add_flag("--overwrite", flags->overwrite, "Replace the run in a run folder that is not empty (default: refuse)");
  // QAT
  qat_option<std::string>(cmd, flags, "--method", "method", "ste | binaryrelax | parq");
  cmd->add_option_function<std::string>(
      "--bits",
      [flags](const std::string& b) {
        nlohmann::json v;
        to_json(v, NumberOrWord{b});
        flags->qat_overrides["bits"] = v;
      },
      "1 | 2 | 3 | 4 | ternary (default " + default_text<quant::QatConfig>("bits") + ")");
  qat_option<std::string>(cmd, flags, "--quantizer", "quantizer", "lsbq (greedy) | uniform");
  qat_flag<bool>(cmd, flags, "--optimal", "optimal", "Exact least-squares LSBQ (ternary, 2 bits) instead of greedy");
  qat_flag<bool>(cmd, flags, "--per-channel", "per_channel", "One Q per output channel");
  qat_flag<bool>(cmd, flags, "--fp-stem-head", "fp_stem_head",
                 "Keep the first conv and the last Linear in full precision");
  qat_option<int64_t>(cmd, flags, "--quant-period", "quant_period", "Re-fit Q every N steps");
  qat_option<int64_t>(cmd, flags, "--warmup-steps", "warmup_steps", "FP steps before QAT starts");
  qat_option<double>(cmd, flags, "--anneal-start-epoch", "anneal_start_epoch", "Anneal start");
  qat_option<double>(cmd, flags, "--anneal-end-epoch", "anneal_end_epoch",
                     "Epoch from which the map is hard (-1: 3/4 of the epochs; may be fractional)");
  qat_option<double>(cmd, flags, "--steepness", "steepness", "PARQ sigmoid steepness");
  qat_flag<bool>(cmd, flags, "--hard-from-quantizer", "hard_from_quantizer",
                 "Hard map uses the quantizer's q-hat on Q-update steps (the PARQ code; else the nearest point)");
  qat_option<std::string>(cmd, flags, "--histogram-layer", "histogram_layer",
                          "Weight whose latent histogram is plotted (none: the middle one)");
  // training: the flags of `qnn train`, with the QAT defaults in their help
  add_training_flags(cmd, flags->overrides, qat_train_defaults());
  cmd->callback([flags] { run_qat(*flags); });
}

}  // namespace qnn::apps
