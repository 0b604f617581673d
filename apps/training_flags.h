#pragma once
// The flags `qnn train` and `qnn qat` share. Each sets one key of the TrainConfig JSON
// (apps/trainer.h), so a flag given on the command line overrides the --config file.
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace qnn::apps {

// The help texts that differ between the commands (their defaults differ).
struct TrainingFlagHelp {
  std::string weight_decay = "Weight decay (default 1e-4)";
  std::string normalize = "Input statistics: cifar10 or imagenet";
  std::string run_name = "Run folder name (default <model>-<dataset>-seed<seed>)";
  std::string schedule = "LR schedule as JSON, stepped per epoch (default multistep at 50%/75%)";
};

// Registers --model ... --schedule on `cmd`; a given flag writes its value into *overrides.
void add_training_flags(CLI::App* cmd, const std::shared_ptr<nlohmann::json>& overrides,
                        const TrainingFlagHelp& help = {});

}  // namespace qnn::apps
