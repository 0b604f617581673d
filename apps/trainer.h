#pragma once
// Supervised training of a classifier, as `qnn train` runs it: SGD or AdamW, an LR schedule
// stepped once per epoch, a test evaluation after every epoch, and a run folder:
//   config.json          the full configuration (flags and config file merged)
//   metrics.csv/.jsonl   one row per finished epoch
//   last.safetensors     the checkpoint (model under "model.", optimizer under "optim.", the rest
//                        of the state as JSON metadata); written atomically after every epoch and
//                        when the run is interrupted, so it is always a complete file
//   best.safetensors     the weights (plain state_dict names) of the best test top-1 so far
// A run resumed from last.safetensors continues exactly: same batches, same augmentation, same
// updates, bit-identical metrics.
#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/data_setup.h"
#include "apps/evaluate.h"

namespace qnn::apps {

struct TrainConfig {
  std::string model = "resnet20";
  std::string dataset = "cifar10";
  std::string data_dir;               // empty: $QNN_DATA_DIR/cifar-10-batches-bin
  std::string normalize = "cifar10";  // cifar10 or imagenet statistics
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
  // Starting weights of a fresh run (plain weights or a checkpoint; apps/weights.h load_weights).
  std::string init_weights;
  // Quantization-aware training (apps/qat_hooks.h QatConfig): empty = full-precision training.
  nlohmann::json qat = nlohmann::json::object();
  // Testing aid: stop (as Ctrl-C would) after this many optimizer steps of this invocation.
  int64_t stop_after_steps = 0;

  nlohmann::ordered_json to_json() const;
  // Keys not given keep their defaults; unknown keys are an error (a typo must not be ignored).
  static TrainConfig from_json(const nlohmann::json& j);
  std::string run_dir() const;
};

struct EpochMetrics {
  int64_t epoch = 0;  // 1-based, as printed
  double lr = 0.0;
  double train_loss = 0.0, train_top1 = 0.0;
  EvalResult test;
  double seconds = 0.0;          // training time of the epoch (not recorded in the checkpoint's metrics)
  nlohmann::ordered_json extra;  // what training hooks report (QAT: slope, fraction on Q, Q)
  nlohmann::ordered_json to_json() const;
  static EpochMetrics from_json(const nlohmann::json& j);
};

struct TrainResult {
  std::vector<EpochMetrics> history;
  bool interrupted = false;
  double best_top1 = 0.0;
};

// Trains on `data` (train and test splits) under `config`. `resume`: a checkpoint to continue
// from (empty: a fresh run). `stop`: checked between steps (the Ctrl-C flag); when it is set, the
// run saves a checkpoint and returns with interrupted = true. Progress goes to `log`.
TrainResult train(const TrainConfig& config, const ClassificationData& data, const std::string& resume,
                  std::ostream& log, const std::atomic<bool>* stop = nullptr);

}  // namespace qnn::apps
