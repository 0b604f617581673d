// `qnn eval --model resnet20 --weights FILE [--data DIR]`: top-1, top-5 and loss of a trained
// model on the test split.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/cli_checks.h"
#include "apps/commands.h"
#include "apps/progress.h"
#include "datasets/presets.h"
#include "engine/evaluate.h"
#include "engine/weights.h"
#include "nn/models/registry.h"

namespace qnn::apps {

namespace {

struct EvalCommandOptions {
  std::string model, weights, data_dir, dataset = "cifar10", normalize = "auto";
  int64_t batch = 256;
  int workers = 2;
  bool json = false;
};

void run_eval(const EvalCommandOptions& o) {
  nn::ModelOptions model_options;
  model_options.num_classes = data::dataset_num_classes(o.dataset);
  std::shared_ptr<nn::Module> model = nn::make_model(o.model, model_options);
  engine::load_weights(*model, o.weights);
  // The weights say how their inputs were normalized; --normalize overrides.
  const data::Normalization norm = engine::resolve_normalization(o.normalize, o.weights, o.dataset);
  const data::ClassificationData data =
      data::load_classification_data(o.dataset, o.data_dir, norm, /*load_train=*/false);
  engine::EvalOptions options;
  options.batch_size = o.batch;
  options.workers = o.workers;
  ProgressBar progress("eval", (data.test->size() + o.batch - 1) / o.batch);
  options.on_batch = [&](int64_t done, int64_t) { progress.update(done, done * o.batch, ""); };
  const engine::EvalResult r = engine::evaluate(*model, data.test, options);
  progress.finish();
  if (o.json) {
    nlohmann::ordered_json j;
    j["model"] = o.model;
    j["weights"] = o.weights;
    j["dataset"] = o.dataset;
    j["images"] = r.count;
    j["top1"] = r.top1;
    j["top5"] = r.top5;
    j["loss"] = r.loss;
    j["seconds"] = r.seconds;
    j["nonfinite"] = r.nonfinite;
    std::cout << j.dump() << '\n';
    return;
  }
  if (r.nonfinite > 0)
    std::printf("warning: %lld of %lld images have NaN or infinite logits: no accuracy is reported\n",
                static_cast<long long>(r.nonfinite), static_cast<long long>(r.count));
  std::printf("%s on %s test (%lld images): top-1 %.2f%%  top-5 %.2f%%  loss %.4f  (%.1f s, %.0f img/s)\n",
              o.model.c_str(), o.dataset.c_str(), static_cast<long long>(r.count), r.top1, r.top5, r.loss, r.seconds,
              static_cast<double>(r.count) / r.seconds);
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto o = std::make_shared<EvalCommandOptions>();
  auto* cmd = app.add_subcommand("eval", "Evaluate a model's weights on a test split: top-1, top-5, loss");
  cmd->add_option("--model", o->model, "Model name (see `qnn models`)")->required();
  cmd->add_option("--weights", o->weights, "safetensors file: weights or a training checkpoint")->required();
  cmd->add_option("--data", o->data_dir,
                  "Folder of the dataset's binary files (default: $QNN_DATA_DIR/...); imagenet: the folder of val/");
  cmd->add_option("--dataset", o->dataset, "cifar10, cifar100 or imagenet")->capture_default_str();
  cmd->add_option("--normalize", o->normalize,
                  "auto (from the weights' metadata, else the dataset's usual: cifar10 or imagenet), cifar10, imagenet")
      ->capture_default_str();
  cmd->add_option("--batch", o->batch, "Batch size")->capture_default_str()->check(positive());
  cmd->add_option("--workers", o->workers, "Data loader threads")->capture_default_str()->check(non_negative());
  cmd->add_flag("--json", o->json, "Print one JSON object");
  cmd->callback([o] { run_eval(*o); });
}

}  // namespace qnn::apps
