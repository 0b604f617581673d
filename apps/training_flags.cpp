#include "apps/training_flags.h"

#include <cstdio>
#include <iostream>

#include "apps/progress.h"
#include "core/config.h"
#include "core/io/safetensors.h"
#include "engine/weights.h"

namespace qnn::apps {

namespace {

std::string default_of(const nlohmann::json& defaults, const std::string& key) {
  const nlohmann::json& v = defaults.at(key);
  if (v.is_string())
    return v.get<std::string>().empty() ? "none" : v.get<std::string>();
  return v.dump();
}

// Registers `--name`: when given, its value overrides config key `key`. The help ends with the
// command's default of that key.
template <class T>
void override_option(CLI::App* cmd, const std::shared_ptr<nlohmann::json>& overrides, const nlohmann::json& defaults,
                     const std::string& name, const std::string& key, const std::string& help) {
  cmd->add_option_function<T>(
      name, [overrides, key](const T& value) { (*overrides)[key] = value; },
      help + " (default " + default_of(defaults, key) + ")");
}

}  // namespace

void add_training_flags(CLI::App* cmd, const std::shared_ptr<nlohmann::json>& overrides,
                        const nlohmann::json& defaults) {
  using std::string;
  const nlohmann::json& d = defaults;
  override_option<string>(cmd, overrides, d, "--from", "init_weights",
                          "Starting weights (plain, checkpoint or quantized safetensors)");
  override_option<string>(cmd, overrides, d, "--model", "model", "Model name");
  override_option<string>(cmd, overrides, d, "--dataset", "dataset", "cifar10, cifar100 or imagenet");
  override_option<string>(cmd, overrides, d, "--data", "data_dir", "Folder of the dataset");
  override_option<string>(cmd, overrides, d, "--normalize", "normalize",
                          "Input statistics: cifar10, imagenet, or auto (the --from weights' own, else the dataset's)");
  override_option<int64_t>(cmd, overrides, d, "--epochs", "epochs", "Epochs");
  override_option<int64_t>(cmd, overrides, d, "--batch", "batch", "Batch size");
  override_option<int64_t>(cmd, overrides, d, "--eval-batch", "eval_batch", "Test batch size");
  override_option<string>(cmd, overrides, d, "--optimizer", "optimizer", "sgd or adamw");
  override_option<double>(cmd, overrides, d, "--lr", "lr", "Learning rate");
  override_option<double>(cmd, overrides, d, "--momentum", "momentum", "SGD momentum");
  override_option<double>(cmd, overrides, d, "--wd", "weight_decay", "Weight decay");
  override_option<double>(cmd, overrides, d, "--clip-grad-norm", "clip_grad_norm",
                          "Clip the gradient's L2 norm (0: off)");
  override_option<uint64_t>(cmd, overrides, d, "--seed", "seed", "Seed of every random stream");
  override_option<int>(cmd, overrides, d, "--workers", "workers", "Data loader threads");
  override_option<int64_t>(cmd, overrides, d, "--train-limit", "train_limit",
                           "Use only the first N training images (0: all)");
  override_option<int64_t>(cmd, overrides, d, "--test-limit", "test_limit",
                           "Use only the first N test images (0: all)");
  override_option<string>(cmd, overrides, d, "--out", "out_dir", "Folder of run folders");
  override_option<string>(cmd, overrides, d, "--name", "run_name", "Run folder name");
  override_option<string>(cmd, overrides, d, "--on-nonfinite", "on_nonfinite",
                          "At a NaN/inf training loss: stop (an error; last.safetensors keeps the last good epoch) or "
                          "skip the step");
  cmd->add_flag(
      "--no-augment", [overrides](int64_t) { (*overrides)["augment"] = false; }, "No random crop / flip");
  cmd->add_option_function<string>(
      "--schedule",
      [overrides](const string& text) {
        try {
          (*overrides)["schedule"] = nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception&) {
          throw CLI::ValidationError("--schedule", "expected JSON such as '{\"name\":\"cosine\",\"total_steps\":200}'");
        }
      },
      "LR schedule as JSON, stepped per epoch (default " + d.at("schedule").dump() +
          "; {} is multistep at 50%/75% of the epochs)");
}

nlohmann::json merge_config(const std::string& config_file, const nlohmann::json& overrides, const std::string& op) {
  nlohmann::json j = config_file.empty() ? nlohmann::json::object() : read_json_file(config_file, op);
  QNN_CHECK(j.is_object(), op, config_file << ": got " << j.type_name() << " (expected a JSON object)");
  for (const auto& [key, value] : overrides.items())
    j[key] = value;
  return j;
}

data::ClassificationData load_training_data(const engine::TrainConfig& config, bool lr_given, double default_lr) {
  std::string source;
  const data::Normalization norm =
      engine::resolve_normalization(config.normalize, config.init_weights, config.dataset, &source);
  std::cout << "input normalization: " << data::normalization_name(norm) << " (" << source << ")\n";
  if (!config.init_weights.empty() && config.normalize != "auto") {
    data::Normalization own;
    if (engine::normalization_from_metadata(load_safetensors(config.init_weights).metadata, own) && !(own == norm))
      std::cout << "warning: " << config.init_weights << " was trained with other input statistics ("
                << data::normalization_name(own) << ") than --normalize " << config.normalize
                << "; leave --normalize out (auto) to use the weights' own\n";
  }
  if (!config.init_weights.empty() && !lr_given)
    std::cout << "note: starting from " << config.init_weights << " with lr " << default_lr
              << ", the from-scratch default; fine-tuning usually wants a smaller one (e.g. --lr 0.01)\n";
  data::ClassificationData data =
      data::load_classification_data(config.dataset, config.data_dir, norm, /*load_train=*/true, config.augment);
  data.norm_source = source;
  return data;
}

engine::TrainCallbacks terminal_callbacks(const engine::TrainConfig& config, const data::ClassificationData& data,
                                          std::function<std::string(const engine::EpochMetrics&)> epoch_suffix) {
  auto bar = std::make_shared<std::unique_ptr<ProgressBar>>();
  const int64_t train_images = data::first_n(data.train, config.train_limit)->size();
  engine::TrainCallbacks c;
  c.on_step = [bar](const engine::StepProgress& p) {
    if (!*bar)
      *bar =
          std::make_unique<ProgressBar>("epoch " + std::to_string(p.epoch) + "/" + std::to_string(p.epochs), p.batches);
    char status[64];
    std::snprintf(status, sizeof status, "loss %.4f", p.loss);
    (*bar)->update(p.batch, p.seen, status);
  };
  c.on_epoch_end = [bar, train_images, epochs = config.epochs, epoch_suffix](engine::EpochMetrics& m) {
    if (*bar) {
      (*bar)->finish();
      bar->reset();
    }
    char line[256];
    std::snprintf(line, sizeof line,
                  "epoch %lld/%lld  lr %.4g  train loss %.4f  acc %.2f%%  |  test loss %.4f  acc %.2f%%  |  %.1f s "
                  "(%.0f img/s)",
                  static_cast<long long>(m.epoch), static_cast<long long>(epochs), m.lr, m.train_loss, m.train_top1,
                  m.test_loss, m.test_top1, m.seconds, static_cast<double>(train_images) / m.seconds);
    std::cout << line << (epoch_suffix ? epoch_suffix(m) : "") << std::endl;
  };
  c.on_message = [bar](const std::string& text) {
    if (*bar) {
      (*bar)->finish();
      bar->reset();
    }
    std::cout << text << (text.empty() || text.back() == '\n' ? "" : "\n") << std::flush;
  };
  return c;
}

}  // namespace qnn::apps
