#include "engine/train_config.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "optim/adamw.h"
#include "optim/sgd.h"

namespace qnn::engine {

void TrainConfig::validate() const {
  QNN_CHECK(epochs >= 1 && batch >= 1 && eval_batch >= 1, "train config",
            "got epochs " << epochs << ", batch " << batch << ", eval_batch " << eval_batch << " (expected all >= 1)");
  QNN_CHECK(optimizer == "sgd" || optimizer == "adamw", "train config",
            "got optimizer '" << optimizer << "' (expected sgd or adamw)");
  QNN_CHECK(schedule.is_object(), "train config", "got schedule " << schedule.dump() << " (expected a JSON object)");
  QNN_CHECK(on_nonfinite == "stop" || on_nonfinite == "skip", "train config",
            "got on_nonfinite '" << on_nonfinite << "' (expected stop or skip)");
}

std::vector<std::string> config_differences(const nlohmann::json& before, const nlohmann::json& now) {
  static const std::vector<std::string> free = {"workers", "eval_batch", "data_dir",
                                                "out_dir", "run_name",   "init_weights"};
  std::vector<std::string> out;
  auto differ = [&](const std::string& key, const nlohmann::json& a, const nlohmann::json& b) {
    if (a != b)
      out.push_back(key + ": " + a.dump() + " in the checkpoint, " + b.dump() + " now");
  };
  for (const auto& [key, value] : now.items()) {
    if (std::find(free.begin(), free.end(), key) != free.end())
      continue;
    if (!before.contains(key))
      continue;  // a key the checkpoint's qnn did not have yet
    const nlohmann::json& old = before.at(key);
    if (key == "qat" && value.is_object() && old.is_object()) {
      for (const auto& [k, v] : value.items())
        differ("qat." + k, old.contains(k) ? old.at(k) : nlohmann::json(), v);
      continue;
    }
    differ(key, old, value);
  }
  return out;
}

std::string TrainConfig::run_dir() const {
  const std::string name = run_name.empty() ? model + "-" + dataset + "-seed" + std::to_string(seed) : run_name;
  return (std::filesystem::path(out_dir) / name).string();
}

std::unique_ptr<optim::Optimizer> make_optimizer(const TrainConfig& c, nn::Module& model) {
  std::vector<optim::ParamGroup> groups;
  if (c.no_decay_norm_bias) {
    groups = optim::weight_decay_groups(model.named_parameters(), c.weight_decay);
  } else if (c.no_decay_bias) {
    groups = optim::bias_no_decay_groups(model.named_parameters(), c.weight_decay);
  } else {
    optim::ParamGroup all;
    all.params = model.parameters();
    all.name = "all";
    groups.push_back(all);
  }
  if (c.optimizer == "adamw") {
    optim::AdamWOptions o;
    o.lr = c.lr;
    o.weight_decay = c.weight_decay;
    return std::make_unique<optim::AdamW>(groups, o);
  }
  optim::SGDOptions o;
  o.lr = c.lr;
  o.momentum = c.momentum;
  o.nesterov = c.nesterov;
  o.weight_decay = c.weight_decay;
  return std::make_unique<optim::SGD>(groups, o);
}

std::unique_ptr<optim::LRScheduler> make_scheduler(const TrainConfig& c, optim::Optimizer& optimizer) {
  if (!c.schedule.empty())
    return optim::make_scheduler(optimizer, c.schedule);
  // Milestones at 50% and 75% of the run; a run too short to have them keeps a constant lr.
  nlohmann::json milestones = nlohmann::json::array();
  for (int64_t m : {c.epochs / 2, c.epochs * 3 / 4})
    if (m > 0 && (milestones.empty() || milestones.back().get<int64_t>() < m))
      milestones.push_back(m);
  if (milestones.empty())
    return optim::make_scheduler(optimizer, {{"name", "constant"}});
  return optim::make_scheduler(optimizer, {{"name", "multistep"}, {"milestones", milestones}, {"gamma", 0.1}});
}

}  // namespace qnn::engine
