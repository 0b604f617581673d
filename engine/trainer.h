#pragma once
// Supervised training of a classifier: a loop over epochs and batches that steps any
// optim::Optimizer (SGD, AdamW, or a QAT optimizer wrapping one), steps the LR schedule once per
// epoch, evaluates on the test split after every epoch, and keeps a run folder
// (engine/run_folder.h). It knows nothing of quantization or of a terminal: what a method adds
// (QAT's report per epoch, its export at the end) and what a command shows (a progress bar, the
// epoch lines) come in through callbacks.
//
// A run resumed from last.safetensors continues exactly: same batches, same augmentation, same
// updates, bit-identical metrics.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "datasets/presets.h"
#include "engine/run_folder.h"
#include "engine/train_config.h"
#include "nn/module.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace qnn::engine {

// Where training is, after an optimizer step.
struct StepProgress {
  int64_t epoch = 0, epochs = 0;   // 1-based epoch in progress, of `epochs`
  int64_t batch = 0, batches = 0;  // batches done in this epoch, of `batches`
  int64_t seen = 0;                // images seen in this epoch
  double loss = 0.0;               // mean training loss of this epoch so far
};

struct TrainCallbacks {
  std::function<void(const StepProgress&)> on_step;  // after every optimizer step
  // After an epoch's test evaluation, before the checkpoint: may add to metrics.extra.
  std::function<void(EpochMetrics&)> on_epoch_end;
  // After the last epoch (not when interrupted), with the trained model.
  std::function<void(nn::Module&, RunFolder&)> on_finish;
  // Messages for the user ("resumed from ...").
  std::function<void(const std::string&)> on_message;
  // State the callbacks keep across a resume: saved in the checkpoint under "callbacks".
  std::function<nlohmann::json()> save_state;
  std::function<void(const nlohmann::json&)> load_state;
};

// What train() drives: the model, the optimizer that updates it and its LR schedule (owned by the
// caller). `config_record` is what config.json holds (default: the TrainConfig's JSON).
struct Trainee {
  nn::Module& model;
  optim::Optimizer& optimizer;
  optim::LRScheduler& scheduler;
  nlohmann::ordered_json config_record;
};

struct TrainResult {
  std::vector<EpochMetrics> history;
  bool interrupted = false;
  double best_top1 = 0.0;  // test top-1 of best.safetensors
  std::string run_dir;
};

// Trains `trainee` on `data` (train and test splits) under `config`. `resume`: a checkpoint to
// continue from (empty: a fresh run). `stop`: checked between steps (the Ctrl-C flag); when it is
// set, the run saves a checkpoint and returns with interrupted = true.
TrainResult train(const TrainConfig& config, const data::ClassificationData& data, Trainee trainee,
                  const TrainCallbacks& callbacks = {}, const std::string& resume = "",
                  const std::atomic<bool>* stop = nullptr);

// The model of a fresh run: the config's model with its initial weights drawn from the global
// generator seeded with config.seed, then (when given) the weights of config.init_weights.
std::shared_ptr<nn::Module> make_run_model(const TrainConfig& config, int64_t num_classes,
                                           const std::string& resume = "");

// Optimizer steps in one epoch (the last, partial batch included).
int64_t steps_per_epoch(const TrainConfig& config, const data::ClassificationData& data);

// A full-precision run as `qnn train` makes it: make_run_model, make_optimizer, make_scheduler,
// then train().
TrainResult train(const TrainConfig& config, const data::ClassificationData& data, const TrainCallbacks& callbacks = {},
                  const std::string& resume = "", const std::atomic<bool>* stop = nullptr);

}  // namespace qnn::engine
