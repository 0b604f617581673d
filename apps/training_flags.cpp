#include "apps/training_flags.h"

namespace qnn::apps {

namespace {

// Registers `--name`: when given, its value overrides config key `key`.
template <class T>
void override_option(CLI::App* cmd, const std::shared_ptr<nlohmann::json>& overrides, const std::string& name,
                     const std::string& key, const std::string& help) {
  cmd->add_option_function<T>(
      name, [overrides, key](const T& value) { (*overrides)[key] = value; }, help);
}

}  // namespace

void add_training_flags(CLI::App* cmd, const std::shared_ptr<nlohmann::json>& overrides, const TrainingFlagHelp& help) {
  using std::string;
  override_option<string>(cmd, overrides, "--from", "init_weights",
                          "Starting weights (plain or checkpoint safetensors)");
  override_option<string>(cmd, overrides, "--model", "model", "Model name (default resnet20)");
  override_option<string>(cmd, overrides, "--dataset", "dataset", "cifar10 or cifar100");
  override_option<string>(cmd, overrides, "--data", "data_dir", "Folder of the dataset's binary files");
  override_option<string>(cmd, overrides, "--normalize", "normalize", help.normalize);
  override_option<int64_t>(cmd, overrides, "--epochs", "epochs", "Epochs (default 200)");
  override_option<int64_t>(cmd, overrides, "--batch", "batch", "Batch size (default 128)");
  override_option<int64_t>(cmd, overrides, "--eval-batch", "eval_batch", "Test batch size (default 256)");
  override_option<string>(cmd, overrides, "--optimizer", "optimizer", "sgd or adamw (default sgd)");
  override_option<double>(cmd, overrides, "--lr", "lr", "Learning rate (default 0.1)");
  override_option<double>(cmd, overrides, "--momentum", "momentum", "SGD momentum (default 0.9)");
  override_option<double>(cmd, overrides, "--wd", "weight_decay", help.weight_decay);
  override_option<double>(cmd, overrides, "--clip-grad-norm", "clip_grad_norm", "Clip the gradient's L2 norm (0: off)");
  override_option<uint64_t>(cmd, overrides, "--seed", "seed", "Seed of every random stream (default 1)");
  override_option<int>(cmd, overrides, "--workers", "workers", "Data loader threads (default 2)");
  override_option<int64_t>(cmd, overrides, "--train-limit", "train_limit", "Use only the first N training images");
  override_option<int64_t>(cmd, overrides, "--test-limit", "test_limit", "Use only the first N test images");
  override_option<string>(cmd, overrides, "--out", "out_dir", "Folder of run folders (default runs)");
  override_option<string>(cmd, overrides, "--name", "run_name", help.run_name);
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
      help.schedule);
}

}  // namespace qnn::apps
