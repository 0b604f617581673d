// `qnn train --model resnet20 --data DIR --epochs 200 ...` or `--config FILE` (flags override the
// file). Ctrl-C stops after the current step and saves a checkpoint; a second Ctrl-C kills.
#include <iostream>
#include <memory>

#include "apps/commands.h"
#include "apps/interrupt.h"
#include "apps/json_file.h"
#include "apps/trainer.h"
#include "apps/training_flags.h"
#include "core/parallel.h"

namespace qnn::apps {

namespace {

struct TrainFlags {
  std::string config_file, resume;
  std::shared_ptr<nlohmann::json> overrides = std::make_shared<nlohmann::json>(nlohmann::json::object());
};

void run_train(const TrainFlags& flags) {
  nlohmann::json j =
      flags.config_file.empty() ? nlohmann::json::object() : read_json_file(flags.config_file, "train --config");
  for (const auto& [key, value] : flags.overrides->items())
    j[key] = value;
  const TrainConfig config = TrainConfig::from_json(j);
  std::cout << "qnn train: " << config.model << " on " << config.dataset << ", " << config.epochs << " epochs, batch "
            << config.batch << ", " << num_threads() << " threads; run folder " << config.run_dir() << std::endl;
  const ClassificationData data =
      load_classification_data(config.dataset, config.data_dir, named_normalization(config.normalize),
                               /*load_train=*/true, config.augment);
  TrainResult r;
  {
    const StopOnInterrupt interrupt;
    r = train(config, data, flags.resume, std::cout, interrupt.flag());
  }
  if (!r.interrupted)
    std::printf("done: best test top-1 %.2f%%; weights in %s/best.safetensors\n", r.best_top1,
                config.run_dir().c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  auto* cmd = app.add_subcommand("train", "Train a model from scratch (or --resume a run)");
  cmd->add_option("--config", flags->config_file,
                  "JSON config (e.g. apps/configs/resnet20_cifar10.json); flags override");
  cmd->add_option("--resume", flags->resume, "Continue from a run's last.safetensors");
  add_training_flags(cmd, flags->overrides);
  cmd->callback([flags] { run_train(*flags); });
}

}  // namespace qnn::apps
