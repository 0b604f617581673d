#include "engine/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/autograd.h"
#include "core/generator.h"
#include "core/io/safetensors.h"
#include "core/ops/loss.h"
#include "datasets/dataloader.h"
#include "engine/evaluate.h"
#include "engine/memory_check.h"
#include "engine/run_record.h"
#include "engine/weights.h"
#include "nn/models/registry.h"
#include "optim/clip.h"

namespace qnn::engine {

namespace {

using ojson = nlohmann::ordered_json;

// Where a run stands: the next epoch and batch to run, and the sums of the epoch in progress.
struct Position {
  int64_t epoch = 0;  // 0-based, the epoch in progress or next
  int64_t batch = 0;  // the next batch of that epoch
  double loss_sum = 0.0;
  int64_t correct = 0, seen = 0;
  int64_t skipped = 0;  // steps skipped for a non-finite loss in this epoch
  double best_top1 = 0.0;
};

struct Run {
  Trainee& t;
  const TrainCallbacks& callbacks;
  std::vector<EpochMetrics> history;
  Position pos;
};

std::map<std::string, std::string> weights_metadata(const TrainConfig& c, const data::Normalization& norm) {
  std::map<std::string, std::string> meta;
  meta["arch"] = c.model;
  meta["dataset"] = c.dataset;
  normalization_to_metadata(norm, meta);
  return meta;
}

void save_checkpoint(const Run& run, const TrainConfig& config, const data::Normalization& norm,
                     const std::string& path) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, t] : run.t.model.state_dict())
    tensors.emplace_back("model." + name, t);
  const optim::StateDict opt = run.t.optimizer.state_dict();
  for (const auto& [name, t] : opt.tensors)
    tensors.emplace_back("optim." + name, t);
  ojson state;
  state["epoch"] = run.pos.epoch;
  state["batch"] = run.pos.batch;
  state["loss_sum"] = run.pos.loss_sum;
  state["correct"] = run.pos.correct;
  state["seen"] = run.pos.seen;
  state["skipped"] = run.pos.skipped;
  state["best_top1"] = run.pos.best_top1;
  state["optimizer"] = opt.scalars;
  state["scheduler"] = run.t.scheduler.state_dict();
  state["config"] = run.t.config_record;
  state["history"] = nlohmann::json(run.history);
  if (run.callbacks.save_state)
    state["callbacks"] = run.callbacks.save_state();
  std::map<std::string, std::string> meta = weights_metadata(config, norm);
  meta["qnn_checkpoint"] = "1";
  meta["state"] = state.dump();
  save_safetensors(path, tensors, meta);
}

void load_checkpoint_state(Run& run, const std::string& path);

// A checkpoint whose state is incomplete or of the wrong shape is named with the JSON's own
// complaint ("key 'epoch' not found"), never that complaint alone.
void load_checkpoint(Run& run, const std::string& path) {
  try {
    load_checkpoint_state(run, path);
  } catch (const nlohmann::json::exception& e) {
    throw Error("train --resume: " + path + ": the checkpoint's state is incomplete or malformed (" + e.what() +
                "; expected the last.safetensors of a qnn run)");
  }
}

void load_checkpoint_state(Run& run, const std::string& path) {
  SafetensorsFile file = load_safetensors(path);
  QNN_CHECK(file.metadata.count("qnn_checkpoint") && file.metadata.count("state"), "train --resume",
            path << " is not a qnn training checkpoint (expected last.safetensors of a run folder)");
  const nlohmann::json state = nlohmann::json::parse(file.metadata.at("state"));
  nn::StateDict model_state;
  optim::StateDict opt;
  for (auto& [name, t] : file.tensors) {
    if (name.rfind("model.", 0) == 0)
      model_state.emplace_back(name.substr(6), t);
    else if (name.rfind("optim.", 0) == 0)
      opt.tensors.emplace_back(name.substr(6), t);
  }
  check_state_values(model_state, path);
  try {
    run.t.model.load_state_dict(model_state, /*strict=*/true);
  } catch (const Error& e) {
    throw Error("train --resume: " + path + ": " + e.what());
  }
  opt.scalars = state.at("optimizer");
  run.t.optimizer.load_state_dict(opt);
  run.t.scheduler.load_state_dict(state.at("scheduler"));
  if (run.callbacks.load_state)
    run.callbacks.load_state(state.value("callbacks", nlohmann::json::object()));
  run.pos.epoch = state.at("epoch").get<int64_t>();
  run.pos.batch = state.at("batch").get<int64_t>();
  run.pos.loss_sum = state.at("loss_sum").get<double>();
  run.pos.correct = state.at("correct").get<int64_t>();
  run.pos.seen = state.at("seen").get<int64_t>();
  run.pos.skipped = state.value("skipped", int64_t{0});
  run.pos.best_top1 = state.at("best_top1").get<double>();
  run.history.clear();
  for (nlohmann::json m : state.at("history")) {
    for (auto& [key, value] : m.items())
      if (value.is_null())
        value = NAN;  // JSON writes NaN as null: a NaN metric comes back as NaN
    run.history.push_back(m.get<EpochMetrics>());
  }
}

// The checkpoint's config, from its state, for checking that a resume continues the same run.
nlohmann::json checkpoint_config(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  QNN_CHECK(file.metadata.count("qnn_checkpoint") && file.metadata.count("state"), "train --resume",
            path << " is not a qnn training checkpoint (expected last.safetensors of a run folder)");
  try {
    return nlohmann::json::parse(file.metadata.at("state")).value("config", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    throw Error("train --resume: " + path + ": the checkpoint's state is not valid JSON (" + e.what() + ")");
  }
}

// The files a run writes, which --overwrite replaces and whose presence makes a folder "a run".
const std::vector<std::string>& run_files() {
  static const std::vector<std::string> files = {"config.json",           "run.json",         "metrics.csv",
                                                 "metrics.jsonl",         "last.safetensors", "best.safetensors",
                                                 "quantized.safetensors", "qat_summary.json", "latent_histogram.json",
                                                 "latent_histogram.svg"};
  return files;
}

// A fresh run goes into a new or empty folder, or replaces an old run's files with --overwrite.
void claim_run_folder(const TrainConfig& config) {
  const std::filesystem::path dir = config.run_dir();
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec) || std::filesystem::is_empty(dir, ec))
    return;
  QNN_CHECK(std::filesystem::is_directory(dir), "train", dir.string() << " exists and is not a folder");
  QNN_CHECK(config.overwrite, "train",
            dir.string() << " already holds a run (expected a new --name, --resume "
                         << (dir / "last.safetensors").string() << " to continue it, or --overwrite to replace it)");
  for (const std::string& f : run_files())
    std::filesystem::remove(dir / f);
}

std::string folder_of(const TrainConfig& config) { return config.run_dir(); }

void say(const TrainCallbacks& callbacks, const std::string& message) {
  if (callbacks.on_message)
    callbacks.on_message(message);
}

}  // namespace

std::shared_ptr<nn::Module> make_run_model(const TrainConfig& config, int64_t num_classes, const std::string& resume) {
  manual_seed(config.seed);  // the model's initial weights come from the global generator
  nn::ModelOptions options;
  options.num_classes = num_classes;
  std::shared_ptr<nn::Module> model = nn::make_model(config.model, options);
  if (!config.init_weights.empty() && resume.empty())
    load_weights(*model, config.init_weights);
  return model;
}

int64_t steps_per_epoch(const TrainConfig& config, const data::ClassificationData& data) {
  const int64_t n = data::first_n(data.train, config.train_limit)->size();
  return (n + config.batch - 1) / config.batch;
}

TrainResult train(const TrainConfig& config, const data::ClassificationData& data, Trainee trainee,
                  const TrainCallbacks& callbacks, const std::string& resume, const std::atomic<bool>* stop) {
  QNN_CHECK(data.train && data.test, "train", "got no training or test split");
  if (trainee.config_record.is_null())
    trainee.config_record = config.to_json();
  Run run{trainee, callbacks, {}, {}};
  nn::Module& model = trainee.model;
  optim::Optimizer& optimizer = trainee.optimizer;
  const auto train_set = data::first_n(data.train, config.train_limit);
  const auto test_set = data::first_n(data.test, config.test_limit);
  data::DataLoader loader(train_set, config.batch, /*shuffle=*/true, /*drop_last=*/false, config.seed, config.workers);
  // Everything a run folder holds is decided before anything in it changes: a resume must continue
  // the same run, a fresh run must not replace another one unasked.
  if (!resume.empty()) {
    const std::vector<std::string> differ = config_differences(checkpoint_config(resume), trainee.config_record);
    if (!differ.empty()) {
      std::string list;
      for (const std::string& d : differ)
        list += "\n  " + d;
      throw Error("train --resume: " + resume +
                  " is a run with another configuration (expected the same values):" + list);
    }
    load_checkpoint(run, resume);
    say(callbacks, "resumed from " + resume + " at epoch " + std::to_string(run.pos.epoch + 1) + ", batch " +
                       std::to_string(run.pos.batch));
  } else {
    claim_run_folder(config);
    if (!config.init_weights.empty())
      say(callbacks, "starting from the weights in " + config.init_weights);
  }

  // An error now, not the kernel's OOM killer later (a batch is at most the whole training set).
  check_batch_fits(model, *train_set, std::min(config.batch, train_set->size()));
  RunFolder folder(config.run_dir());
  folder.write_json("config.json", trainee.config_record);
  ojson env = environment_record();
  if (resume.empty()) {
    folder.record("created", env);
  } else {
    ojson resumes = folder.record().value("resumed", ojson::array());
    env["from"] = resume;
    resumes.push_back(env);
    folder.record("resumed", resumes);
  }
  folder.record("config", trainee.config_record);
  folder.record("seeds", {{"seed", config.seed},
                          {"streams",
                           "model init: the global generator seeded with seed; batch order and "
                           "augmentation: the data loader's generators, seeded with seed and the epoch"}});
  folder.record("normalization", normalization_record(data.norm, data.norm_source));
  folder.record("best_checkpoint", {{"file", "best.safetensors"},
                                    {"selected_on", "test"},
                                    {"note",
                                     "best.safetensors is the epoch of highest TEST top-1: a number read "
                                     "from it is test-selected; report the last epoch instead"}});

  EvalOptions eval_options;
  eval_options.batch_size = config.eval_batch;
  eval_options.workers = config.workers;

  TrainResult result;
  result.run_dir = folder.dir();
  int64_t steps_this_call = 0;
  const std::vector<Tensor> params = model.parameters();
  for (; run.pos.epoch < config.epochs; ++run.pos.epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const double lr = optimizer.lr(0);
    model.train();
    loader.set_epoch(run.pos.epoch, run.pos.batch);
    bool stopped = false;
    for (const data::Batch& batch : loader) {
      const Tensor logits = model(batch.images);
      const Tensor loss = cross_entropy(logits, batch.labels);
      const float loss_value = loss.item();
      if (!std::isfinite(loss_value)) {
        if (config.on_nonfinite == "stop")
          throw Error("train: the training loss is " + std::to_string(loss_value) + " at epoch " +
                      std::to_string(run.pos.epoch + 1) + ", batch " + std::to_string(batch.index + 1) +
                      " (expected a finite loss); the run stopped, and " +
                      (run.history.empty() ? std::string("no checkpoint was written yet")
                                           : folder_of(config) + "/last.safetensors holds epoch " +
                                                 std::to_string(run.history.size())) +
                      ". A smaller --lr, --clip-grad-norm, or --on-nonfinite skip (drop such steps) may help");
        ++run.pos.skipped;  // "skip": no update from this batch, and it counts in no sum
        optimizer.zero_grad();
        run.pos.batch = batch.index + 1;
        ++steps_this_call;
        continue;
      }
      optimizer.zero_grad();
      loss.backward();
      if (config.clip_grad_norm > 0.0)
        optim::clip_grad_norm_(params, config.clip_grad_norm);
      optimizer.step();
      const int64_t n = batch.labels.size(0);
      int64_t top1 = 0, top5 = 0;
      {
        NoGradGuard no_grad;
        count_correct(logits.detach(), batch.labels, top1, top5);
      }
      run.pos.loss_sum += static_cast<double>(loss_value) * static_cast<double>(n);
      run.pos.correct += top1;
      run.pos.seen += n;
      run.pos.batch = batch.index + 1;
      ++steps_this_call;
      if (callbacks.on_step)
        callbacks.on_step({run.pos.epoch + 1, config.epochs, run.pos.batch, loader.size(), run.pos.seen,
                           run.pos.loss_sum / static_cast<double>(run.pos.seen)});
      if ((stop && stop->load()) || (config.stop_after_steps > 0 && steps_this_call >= config.stop_after_steps)) {
        stopped = true;
        break;
      }
    }
    if (stopped && run.pos.batch < loader.size()) {
      save_checkpoint(run, config, data.norm, folder.path("last.safetensors"));
      say(callbacks, "interrupted at epoch " + std::to_string(run.pos.epoch + 1) + ", batch " +
                         std::to_string(run.pos.batch) + "; resume with --resume " + folder.path("last.safetensors"));
      result.interrupted = true;
      break;
    }
    EpochMetrics m;
    m.epoch = run.pos.epoch + 1;
    m.lr = lr;
    m.train_loss = run.pos.seen ? run.pos.loss_sum / static_cast<double>(run.pos.seen) : 0.0;
    m.train_top1 =
        run.pos.seen ? 100.0 * static_cast<double>(run.pos.correct) / static_cast<double>(run.pos.seen) : 0.0;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    m.skipped_steps = run.pos.skipped;
    const EvalResult test = evaluate(model, test_set, eval_options);
    m.test_loss = test.loss;
    m.test_top1 = test.top1;
    m.test_top5 = test.top5;
    if (callbacks.on_epoch_end)
      callbacks.on_epoch_end(m);
    trainee.scheduler.step();
    run.history.push_back(m);
    run.pos.batch = 0;
    run.pos.loss_sum = 0.0;
    run.pos.correct = run.pos.seen = run.pos.skipped = 0;
    const bool best = m.test_top1 > run.pos.best_top1 || run.history.size() == 1;
    if (best) {
      run.pos.best_top1 = m.test_top1;
      save_weights(model, folder.path("best.safetensors"), weights_metadata(config, data.norm));
    }
    // The position after this epoch: the next one, from its first batch.
    ++run.pos.epoch;
    save_checkpoint(run, config, data.norm, folder.path("last.safetensors"));
    --run.pos.epoch;
    folder.write_metrics(run.history);
    if (stopped) {  // stopped on the epoch's last batch: the epoch is complete and saved
      result.interrupted = true;
      ++run.pos.epoch;
      break;
    }
  }
  if (!run.history.empty())
    folder.record("best_checkpoint", [&] {
      ojson b = folder.record().at("best_checkpoint");
      b["test_top1"] = run.pos.best_top1;
      b["last_epoch_test_top1"] = run.history.back().test_top1;
      return b;
    }());
  if (callbacks.on_finish && !result.interrupted)
    callbacks.on_finish(model, folder);
  result.history = run.history;
  result.best_top1 = run.pos.best_top1;
  return result;
}

TrainResult train(const TrainConfig& config, const data::ClassificationData& data, const TrainCallbacks& callbacks,
                  const std::string& resume, const std::atomic<bool>* stop) {
  const std::shared_ptr<nn::Module> model = make_run_model(config, data.num_classes, resume);
  const std::unique_ptr<optim::Optimizer> optimizer = make_optimizer(config, *model);
  const std::unique_ptr<optim::LRScheduler> scheduler = make_scheduler(config, *optimizer);
  return train(config, data, Trainee{*model, *optimizer, *scheduler, {}}, callbacks, resume, stop);
}

}  // namespace qnn::engine
