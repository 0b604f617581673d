// `qnn qat --model resnet20 --data DIR --method ste|binaryrelax|parq --bits 1|2|3|4|ternary ...` or
// `--config apps/configs/parq/resnet20_cifar10_2bit.json` (flags override the file): quantization-
// aware training with the trainer of `qnn train` (same progress bar, epoch lines, run folder,
// checkpoints and --resume) plus the QAT report per epoch, the final hard projection, the model
// saved quantized (run folder/quantized.safetensors) and a histogram of one layer's latent weights
// (latent_histogram.svg). Ctrl-C stops after the current step and saves a checkpoint.
#include <iostream>
#include <memory>

#include "apps/commands.h"
#include "apps/interrupt.h"
#include "apps/json_file.h"
#include "apps/qat_hooks.h"
#include "apps/trainer.h"
#include "apps/training_flags.h"
#include "core/io/safetensors.h"
#include "core/parallel.h"

namespace qnn::apps {

namespace {

struct QatFlags {
  std::string config_file, resume;
  std::shared_ptr<nlohmann::json> overrides =
      std::make_shared<nlohmann::json>(nlohmann::json::object());  // TrainConfig keys
  nlohmann::json qat_overrides = nlohmann::json::object();         // keys of its "qat" section
};

// The defaults of `qnn qat` without a config: the CIFAR recipe of the PARQ paper (digest 5.1):
// wd 2e-4 (not on biases), LR x0.1 at 40%/60%/75% of the epochs (80/120/150 of 200).
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

void run_qat(const QatFlags& flags) {
  nlohmann::json j;
  if (flags.config_file.empty()) {
    const int64_t epochs = flags.overrides->value("epochs", int64_t{200});
    j = qat_defaults(epochs);
  } else {
    j = read_json_file(flags.config_file, "qat --config");
  }
  for (const auto& [key, value] : flags.overrides->items())
    j[key] = value;
  if (!j.contains("qat") || !j["qat"].is_object())
    j["qat"] = nlohmann::json::object();
  for (const auto& [key, value] : flags.qat_overrides.items())
    j["qat"][key] = value;
  const QatConfig qc = QatConfig::from_json(j["qat"]);
  j["qat"] = qc.to_json();  // every default spelled out in config.json
  if (!j.contains("run_name") || j["run_name"].get<std::string>().empty())
    j["run_name"] = j.value("model", std::string("resnet20")) + "-" + j.value("dataset", std::string("cifar10")) + "-" +
                    qc.method + "-" + qc.bits_name() + "-seed" + std::to_string(j.value("seed", uint64_t{1}));
  const TrainConfig config = TrainConfig::from_json(j);
  // Pretrained weights carry the input normalization they were trained with: warn on a mismatch.
  if (!config.init_weights.empty()) {
    Normalization norm;
    if (normalization_from_metadata(load_safetensors(config.init_weights).metadata, norm) &&
        norm.mean != named_normalization(config.normalize).mean)
      std::cout << "warning: " << config.init_weights << " was trained with other input statistics than --normalize "
                << config.normalize << " (the pretrained CIFAR ResNets need --normalize imagenet)\n";
  }
  std::cout << "qnn qat: " << config.model << " on " << config.dataset << ", " << qc.method << " " << qc.bits_name()
            << ", " << config.epochs << " epochs, batch " << config.batch << ", " << num_threads()
            << " threads; run folder " << config.run_dir() << std::endl;
  const ClassificationData data =
      load_classification_data(config.dataset, config.data_dir, named_normalization(config.normalize),
                               /*load_train=*/true, config.augment);
  TrainResult r;
  {
    const StopOnInterrupt interrupt;
    r = train(config, data, flags.resume, std::cout, interrupt.flag());
  }
  if (!r.interrupted && !r.history.empty())
    std::printf("done: last-epoch test top-1 %.2f%%; quantized model in %s/quantized.safetensors\n",
                r.history.back().test.top1, config.run_dir().c_str());
}

template <class T>
void qat_option(CLI::App* cmd, const std::shared_ptr<QatFlags>& flags, const std::string& name, const std::string& key,
                const std::string& help) {
  cmd->add_option_function<T>(
      name, [flags, key](const T& value) { flags->qat_overrides[key] = value; }, help);
}

}  // namespace

void add_qat_command(CLI::App& app) {
  auto flags = std::make_shared<QatFlags>();
  auto* cmd = app.add_subcommand("qat", "Quantization-aware training: STE, BinaryRelax or PARQ (or --resume a run)");
  cmd->add_option("--config", flags->config_file, "JSON config (e.g. apps/configs/parq/resnet20_cifar10_2bit.json)");
  cmd->add_option("--resume", flags->resume, "Continue from a run's last.safetensors");
  // QAT
  qat_option<std::string>(cmd, flags, "--method", "method", "ste | binaryrelax | parq (default parq)");
  cmd->add_option_function<std::string>(
      "--bits",
      [flags](const std::string& b) {
        flags->qat_overrides["bits"] =
            b == "ternary" || b == "T" ? nlohmann::json("ternary") : nlohmann::json(std::stoi(b));
      },
      "1 | 2 | 3 | 4 | ternary (default 2)");
  qat_option<std::string>(cmd, flags, "--quantizer", "quantizer", "lsbq | uniform (default lsbq, greedy)");
  cmd->add_flag(
      "--optimal", [flags](int64_t) { flags->qat_overrides["optimal"] = true; },
      "Exact least-squares LSBQ (ternary, 2 bits) instead of greedy / 1.1 mean");
  cmd->add_flag(
      "--per-channel", [flags](int64_t) { flags->qat_overrides["per_channel"] = true; },
      "One Q per output channel (default per tensor)");
  cmd->add_flag(
      "--fp-stem-head", [flags](int64_t) { flags->qat_overrides["fp_stem_head"] = true; },
      "Keep the first conv and the last Linear in full precision (default: quantized)");
  qat_option<int64_t>(cmd, flags, "--quant-period", "quant_period", "Re-fit Q every N steps (default 10)");
  qat_option<int64_t>(cmd, flags, "--warmup-steps", "warmup_steps", "FP steps before QAT starts (default 200)");
  qat_option<double>(cmd, flags, "--anneal-start-epoch", "anneal_start_epoch", "Anneal start (default 0)");
  qat_option<double>(cmd, flags, "--anneal-end-epoch", "anneal_end_epoch",
                     "Epoch from which the map is hard (default 3/4 of the epochs; may be fractional)");
  qat_option<double>(cmd, flags, "--steepness", "steepness", "PARQ sigmoid steepness (default 100)");
  cmd->add_flag(
      "--hard-from-quantizer", [flags](int64_t) { flags->qat_overrides["hard_from_quantizer"] = true; },
      "Hard map uses the quantizer's q-hat on Q-update steps (the PARQ code; default nearest point)");
  qat_option<std::string>(cmd, flags, "--histogram-layer", "histogram_layer",
                          "Weight whose latent histogram is plotted (default the middle one)");
  // training: the flags of `qnn train`, with the QAT defaults in their help
  TrainingFlagHelp help;
  help.weight_decay = "Weight decay, on the latent weights (default 2e-4)";
  help.normalize = "Input statistics: cifar10 (default) or imagenet (the pretrained ResNets)";
  help.run_name = "Run folder name (default <model>-<dataset>-<method>-<bits>-seed<seed>)";
  help.schedule = "LR schedule as JSON, stepped per epoch (default multistep at 40/60/75% of the epochs)";
  add_training_flags(cmd, flags->overrides, help);
  cmd->callback([flags] { run_qat(*flags); });
}

}  // namespace qnn::apps
