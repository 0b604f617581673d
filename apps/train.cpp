// `qnn train --model resnet20 --data DIR --epochs 200 ...` or `--config FILE` (flags override the
// file). Ctrl-C stops after the current step and saves a checkpoint; a second Ctrl-C kills.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <memory>

#include "apps/commands.h"
#include "apps/trainer.h"
#include "core/parallel.h"

namespace qnn::apps {

namespace {

std::atomic<bool> g_stop{false};

void on_interrupt(int) {
  if (g_stop.exchange(true)) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    return;
  }
  const char message[] = "\nstopping after this step (Ctrl-C again to kill)...\n";
  [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, message, sizeof message - 1);
}

struct TrainFlags {
  std::string config_file, resume;
  nlohmann::json overrides = nlohmann::json::object();
};

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  QNN_CHECK(in.good(), "train --config", "cannot open " << path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error("train --config: " + path + " is not valid JSON: " + e.what());
  }
}

void run_train(const TrainFlags& flags) {
  nlohmann::json j = flags.config_file.empty() ? nlohmann::json::object() : read_json_file(flags.config_file);
  for (const auto& [key, value] : flags.overrides.items())
    j[key] = value;
  const TrainConfig config = TrainConfig::from_json(j);
  std::cout << "qnn train: " << config.model << " on " << config.dataset << ", " << config.epochs << " epochs, batch "
            << config.batch << ", " << num_threads() << " threads; run folder " << config.run_dir() << std::endl;
  const ClassificationData data =
      load_classification_data(config.dataset, config.data_dir, named_normalization(config.normalize),
                               /*load_train=*/true, config.augment);
  std::signal(SIGINT, on_interrupt);
  const TrainResult r = train(config, data, flags.resume, std::cout, &g_stop);
  std::signal(SIGINT, SIG_DFL);
  if (!r.interrupted)
    std::printf("done: best test top-1 %.2f%%; weights in %s/best.safetensors\n", r.best_top1,
                config.run_dir().c_str());
}

// Registers `--name` whose value, when given, overrides key `key` of the config.
template <class T>
void override_option(CLI::App* cmd, const std::shared_ptr<TrainFlags>& flags, const std::string& name,
                     const std::string& key, const std::string& help) {
  cmd->add_option_function<T>(
      name, [flags, key](const T& value) { flags->overrides[key] = value; }, help);
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  auto* cmd = app.add_subcommand("train", "Train a model from scratch (or --resume a run)");
  cmd->add_option("--config", flags->config_file,
                  "JSON config (e.g. apps/configs/resnet20_cifar10.json); flags override");
  cmd->add_option("--resume", flags->resume, "Continue from a run's last.safetensors");
  override_option<std::string>(cmd, flags, "--model", "model", "Model name (default resnet20)");
  override_option<std::string>(cmd, flags, "--dataset", "dataset", "cifar10 or cifar100");
  override_option<std::string>(cmd, flags, "--data", "data_dir", "Folder of the dataset's binary files");
  override_option<std::string>(cmd, flags, "--normalize", "normalize", "Input statistics: cifar10 or imagenet");
  override_option<int64_t>(cmd, flags, "--epochs", "epochs", "Epochs (default 200)");
  override_option<int64_t>(cmd, flags, "--batch", "batch", "Batch size (default 128)");
  override_option<int64_t>(cmd, flags, "--eval-batch", "eval_batch", "Test batch size (default 256)");
  override_option<std::string>(cmd, flags, "--optimizer", "optimizer", "sgd or adamw");
  override_option<double>(cmd, flags, "--lr", "lr", "Learning rate (default 0.1)");
  override_option<double>(cmd, flags, "--momentum", "momentum", "SGD momentum (default 0.9)");
  override_option<double>(cmd, flags, "--wd", "weight_decay", "Weight decay (default 1e-4)");
  override_option<double>(cmd, flags, "--clip-grad-norm", "clip_grad_norm", "Clip the gradient's L2 norm (0: off)");
  override_option<uint64_t>(cmd, flags, "--seed", "seed", "Seed of every random stream (default 1)");
  override_option<int>(cmd, flags, "--workers", "workers", "Data loader threads (default 2)");
  override_option<int64_t>(cmd, flags, "--train-limit", "train_limit", "Use only the first N training images");
  override_option<int64_t>(cmd, flags, "--test-limit", "test_limit", "Use only the first N test images");
  override_option<std::string>(cmd, flags, "--out", "out_dir", "Folder of run folders (default runs)");
  override_option<std::string>(cmd, flags, "--name", "run_name",
                               "Run folder name (default <model>-<dataset>-seed<seed>)");
  cmd->add_flag(
      "--no-augment", [flags](int64_t) { flags->overrides["augment"] = false; }, "No random crop / flip");
  cmd->add_option_function<std::string>(
      "--schedule",
      [flags](const std::string& text) {
        try {
          flags->overrides["schedule"] = nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception&) {
          throw CLI::ValidationError("--schedule", "expected JSON such as '{\"name\":\"cosine\",\"total_steps\":200}'");
        }
      },
      "LR schedule as JSON, stepped per epoch (default multistep at 50%/75%)");
  cmd->callback([flags] { run_train(*flags); });
}

}  // namespace qnn::apps
