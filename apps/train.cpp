// `qnn train --model resnet20 --data DIR --epochs 200 ...` or `--config FILE` (flags override the
// file). Ctrl-C stops after the current step and saves a checkpoint; a second Ctrl-C kills.
#include <iostream>
#include <memory>

#include "apps/commands.h"
#include "apps/interrupt.h"
#include "apps/training_flags.h"
#include "core/parallel.h"
#include "engine/trainer.h"

namespace qnn::apps {

namespace {

struct TrainFlags {
  std::string config_file, resume;
  bool overwrite = false;
  std::shared_ptr<nlohmann::json> overrides = std::make_shared<nlohmann::json>(nlohmann::json::object());
};

void run_train(const TrainFlags& flags) {
  const nlohmann::json j = merge_config(flags.config_file, *flags.overrides, "train --config");
  engine::TrainConfig config = engine::TrainConfig::from_json(j);
  config.overwrite = flags.overwrite;
  std::cout << "qnn train: " << config.model << " on " << config.dataset << ", " << config.epochs << " epochs, batch "
            << config.batch << ", " << num_threads() << " threads; run folder " << config.run_dir() << std::endl;
  const data::ClassificationData data = load_training_data(config, j.contains("lr"), engine::TrainConfig{}.lr);
  engine::TrainResult r;
  {
    const StopOnInterrupt interrupt;
    r = engine::train(config, data, terminal_callbacks(config, data), flags.resume, interrupt.flag());
  }
  if (!r.interrupted && !r.history.empty())
    std::printf(
        "done: last epoch test top-1 %.2f%%; best test top-1 %.2f%% (best.safetensors, chosen on the TEST split: "
        "report the last epoch); run folder %s\n",
        r.history.back().test_top1, r.best_top1, r.run_dir.c_str());
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  auto* cmd = app.add_subcommand("train", "Train a model from scratch (or --resume a run)");
  cmd->add_option("--config", flags->config_file,
                  "JSON config (e.g. apps/configs/resnet20_cifar10.json); flags override");
  cmd->add_option("--resume", flags->resume, "Continue from a run's last.safetensors");
  cmd->add_flag("--overwrite", flags->overwrite, "Replace the run in a run folder that is not empty (default: refuse)");
  add_training_flags(cmd, flags->overrides, engine::TrainConfig{}.to_json());
  cmd->callback([flags] { run_train(*flags); });
}

}  // namespace qnn::apps
