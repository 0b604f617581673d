#pragma once
// What a training run is: its configuration (declared once, engine/config.h), the metrics of one
// epoch, and the optimizer and LR schedule a configuration names.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "nn/module.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"

namespace qnn::engine {

struct TrainConfig {
  std::string model = "resnet20";
  std::string dataset = "cifar10";
  std::string data_dir;  // empty: $QNN_DATA_DIR/cifar-10-batches-bin
  // cifar10 or imagenet statistics; auto: those in init_weights' metadata, else the dataset's usual
  std::string normalize = "auto";
  int64_t epochs = 200;
  int64_t batch = 128;
  int64_t eval_batch = 256;
  std::string optimizer = "sgd";  // sgd or adamw
  double lr = 0.1;
  double momentum = 0.9;  // SGD
  bool nesterov = false;
  double weight_decay = 1e-4;
  bool no_decay_norm_bias = false;  // weight decay 0 on biases and norm parameters
  bool no_decay_bias = false;       // weight decay 0 on *.bias only, norm scales decayed (the PARQ code)
  double clip_grad_norm = 0.0;      // 0: no clipping
  // Stepped once per epoch. Milestones and total steps count epochs; an empty object means
  // multistep at 50% and 75% of the epochs (gamma 0.1), the CIFAR ResNet recipe.
  nlohmann::json schedule = nlohmann::json::object();
  bool augment = true;  // random crop (pad 4) + horizontal flip
  uint64_t seed = 1;
  int workers = 2;
  int64_t train_limit = 0;  // > 0: only the first N training images (quick runs)
  int64_t test_limit = 0;   // > 0: only the first N test images
  std::string out_dir = "runs";
  std::string run_name;  // empty: <model>-<dataset>-seed<seed>
  // Starting weights of a fresh run (plain weights, a checkpoint or a quantized file).
  std::string init_weights;
  // At a NaN or infinite training loss: "stop" (a clear error; last.safetensors keeps the last
  // good epoch) or "skip" (drop that step's update, count it in the epoch's metrics).
  std::string on_nonfinite = "stop";
  // Not part of a run's definition (not in its JSON): a testing aid that stops the run, as
  // Ctrl-C would, after this many optimizer steps of this call.
  int64_t stop_after_steps = 0;
  // Not part of a run's definition either: replace the files of a run folder that is not empty
  // (without it, a fresh run refuses such a folder).
  bool overwrite = false;

  QNN_CONFIG(TrainConfig, model, dataset, data_dir, normalize, epochs, batch, eval_batch, optimizer, lr, momentum,
             nesterov, weight_decay, no_decay_norm_bias, no_decay_bias, clip_grad_norm, schedule, augment, seed,
             workers, train_limit, test_limit, out_dir, run_name, init_weights, on_nonfinite)

  void validate() const;
  // Keys not given keep their defaults; unknown keys and values of the wrong type are errors.
  static TrainConfig from_json(const nlohmann::json& j) { return parse_config<TrainConfig>(j, "train config"); }
  nlohmann::json to_json() const { return *this; }
  std::string run_dir() const;
};

// One finished epoch, as metrics.csv and metrics.jsonl record it.
struct EpochMetrics {
  int64_t epoch = 0;  // 1-based, as printed
  double lr = 0.0;
  double train_loss = 0.0, train_top1 = 0.0;
  double test_loss = 0.0, test_top1 = 0.0, test_top5 = 0.0;
  double seconds = 0.0;       // training time of the epoch
  int64_t skipped_steps = 0;  // steps whose loss was not finite (on_nonfinite "skip")
  // What the training method adds through its epoch callback (QAT: phase, slope, fraction on Q, Q).
  nlohmann::json extra = nlohmann::json::object();

  QNN_CONFIG(EpochMetrics, epoch, lr, train_loss, train_top1, test_loss, test_top1, test_top5, seconds, skipped_steps,
             extra)
};

// The keys of `now` whose values differ from `before` (both TrainConfig JSON, possibly with a
// "qat" section), leaving out those a resume may change (workers, eval_batch, data_dir, out_dir,
// run_name, init_weights): "key: before -> now", one per key.
std::vector<std::string> config_differences(const nlohmann::json& before, const nlohmann::json& now);

// The optimizer of a config (SGD or AdamW over the weight-decay groups it asks for).
std::unique_ptr<optim::Optimizer> make_optimizer(const TrainConfig& config, nn::Module& model);
// The per-epoch LR schedule of a config (its "schedule", or the multistep default).
std::unique_ptr<optim::LRScheduler> make_scheduler(const TrainConfig& config, optim::Optimizer& optimizer);

}  // namespace qnn::engine
