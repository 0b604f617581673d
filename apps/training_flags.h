#pragma once
// What `qnn train` and `qnn qat` share on the command line: the flags of the TrainConfig (each
// sets one key, so a flag overrides the --config file; help texts show the command's defaults,
// taken from the config structs), the loading of data with the input normalization the run
// resolves, and the terminal side of a run (progress bar, epoch lines, messages).
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "datasets/presets.h"
#include "engine/trainer.h"

namespace qnn::apps {

// Registers --model ... --schedule on `cmd`; a given flag writes its value into *overrides.
// `defaults`: the TrainConfig JSON of the command's defaults (for the help texts).
void add_training_flags(CLI::App* cmd, const std::shared_ptr<nlohmann::json>& overrides,
                        const nlohmann::json& defaults);

// The config file (if any) with the flags laid over it.
nlohmann::json merge_config(const std::string& config_file, const nlohmann::json& overrides, const std::string& op);

// The run's data, normalized as config.normalize resolves ("auto": the --from weights' metadata,
// else the dataset's usual statistics). Prints where the statistics came from, warns when an
// explicit --normalize differs from the --from weights' own, and notes when a run from
// pretrained weights keeps the from-scratch default learning rate (`lr_given` false).
data::ClassificationData load_training_data(const engine::TrainConfig& config, bool lr_given, double default_lr);

// Progress bar per epoch, an epoch line after each (with `epoch_suffix(metrics)` appended), and
// the trainer's messages, on stdout.
engine::TrainCallbacks terminal_callbacks(const engine::TrainConfig& config, const data::ClassificationData& data,
                                          std::function<std::string(const engine::EpochMetrics&)> epoch_suffix = {});

}  // namespace qnn::apps
