#pragma once
// Points where a training method that is more than "base optimizer step" plugs into the trainer
// (apps/trainer.cpp) without a copy of the loop: QAT (apps/qat_hooks.h) replaces the optimizer
// step, adds its state to the checkpoint, reports per epoch and exports the final model.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "apps/evaluate.h"
#include "core/tensor.h"
#include "nn/module.h"

namespace qnn::apps {

class TrainHooks {
 public:
  virtual ~TrainHooks() = default;
  // Called instead of optimizer.step() after every backward.
  virtual void step() = 0;
  // Checkpoint: tensors (stored under "<prefix>." by the trainer) and scalars (state["<prefix>"]).
  virtual std::string prefix() const = 0;
  virtual std::vector<std::pair<std::string, Tensor>> state_tensors() const = 0;
  virtual nlohmann::json state_scalars() const = 0;
  virtual void load_state(const std::vector<std::pair<std::string, Tensor>>& tensors,
                          const nlohmann::json& scalars) = 0;
  // After an epoch's test evaluation: text appended to the epoch line, and values recorded with
  // the epoch's metrics (metrics.jsonl).
  virtual std::pair<std::string, nlohmann::ordered_json> epoch_end(int64_t epoch) = 0;
  // After the last epoch (not on interruption). `evaluate_model` evaluates a model on the test set.
  virtual void finish(nn::Module& model, const std::string& run_dir,
                      const std::function<EvalResult(nn::Module&)>& evaluate_model, std::ostream& log) = 0;
};

}  // namespace qnn::apps
