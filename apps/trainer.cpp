#include "apps/trainer.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "apps/progress.h"
#include "apps/qat_hooks.h"
#include "core/autograd.h"
#include "core/io/safetensors.h"
#include "core/ops/loss.h"
#include "datasets/dataloader.h"
#include "nn/models/registry.h"
#include "optim/adamw.h"
#include "optim/clip.h"
#include "optim/schedule.h"
#include "optim/sgd.h"

namespace qnn::apps {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// ---- configuration ----

ojson TrainConfig::to_json() const {
  ojson j;
  j["model"] = model;
  j["dataset"] = dataset;
  j["data_dir"] = data_dir;
  j["normalize"] = normalize;
  j["epochs"] = epochs;
  j["batch"] = batch;
  j["eval_batch"] = eval_batch;
  j["optimizer"] = optimizer;
  j["lr"] = lr;
  j["momentum"] = momentum;
  j["nesterov"] = nesterov;
  j["weight_decay"] = weight_decay;
  j["no_decay_norm_bias"] = no_decay_norm_bias;
  j["no_decay_bias"] = no_decay_bias;
  j["clip_grad_norm"] = clip_grad_norm;
  j["schedule"] = schedule;
  j["augment"] = augment;
  j["seed"] = seed;
  j["workers"] = workers;
  j["train_limit"] = train_limit;
  j["test_limit"] = test_limit;
  j["out_dir"] = out_dir;
  j["run_name"] = run_name;
  j["init_weights"] = init_weights;
  j["qat"] = qat;
  return j;
}

TrainConfig TrainConfig::from_json(const json& j) {
  QNN_CHECK(j.is_object(), "train config", "got " << j.type_name() << " (expected a JSON object)");
  TrainConfig c;
  const ojson known = c.to_json();
  for (const auto& [key, value] : j.items())
    QNN_CHECK(
        known.contains(key), "train config", "unknown key '" << key << "' (expected one of " << [&] {
          std::string names;
          for (const auto& [k, v] : known.items())
            names += (names.empty() ? "" : ", ") + k;
          return names;
        }() << ")");
  try {
    c.model = j.value("model", c.model);
    c.dataset = j.value("dataset", c.dataset);
    c.data_dir = j.value("data_dir", c.data_dir);
    c.normalize = j.value("normalize", c.normalize);
    c.epochs = j.value("epochs", c.epochs);
    c.batch = j.value("batch", c.batch);
    c.eval_batch = j.value("eval_batch", c.eval_batch);
    c.optimizer = j.value("optimizer", c.optimizer);
    c.lr = j.value("lr", c.lr);
    c.momentum = j.value("momentum", c.momentum);
    c.nesterov = j.value("nesterov", c.nesterov);
    c.weight_decay = j.value("weight_decay", c.weight_decay);
    c.no_decay_norm_bias = j.value("no_decay_norm_bias", c.no_decay_norm_bias);
    c.no_decay_bias = j.value("no_decay_bias", c.no_decay_bias);
    c.clip_grad_norm = j.value("clip_grad_norm", c.clip_grad_norm);
    if (j.contains("schedule"))
      c.schedule = j.at("schedule");
    c.augment = j.value("augment", c.augment);
    c.seed = j.value("seed", c.seed);
    c.workers = j.value("workers", c.workers);
    c.train_limit = j.value("train_limit", c.train_limit);
    c.test_limit = j.value("test_limit", c.test_limit);
    c.out_dir = j.value("out_dir", c.out_dir);
    c.run_name = j.value("run_name", c.run_name);
    c.init_weights = j.value("init_weights", c.init_weights);
    if (j.contains("qat") && !j.at("qat").is_null())
      c.qat = j.at("qat");
  } catch (const json::exception& e) {
    throw Error(std::string("train config: ") + e.what() + " (a value has the wrong type)");
  }
  QNN_CHECK(
      c.epochs >= 1 && c.batch >= 1 && c.eval_batch >= 1, "train config",
      "got epochs " << c.epochs << ", batch " << c.batch << ", eval_batch " << c.eval_batch << " (expected all >= 1)");
  QNN_CHECK(c.optimizer == "sgd" || c.optimizer == "adamw", "train config",
            "got optimizer '" << c.optimizer << "' (expected sgd or adamw)");
  return c;
}

std::string TrainConfig::run_dir() const {
  const std::string name = run_name.empty() ? model + "-" + dataset + "-seed" + std::to_string(seed) : run_name;
  return (fs::path(out_dir) / name).string();
}

ojson EpochMetrics::to_json() const {
  ojson j;
  j["epoch"] = epoch;
  j["lr"] = lr;
  j["train_loss"] = train_loss;
  j["train_top1"] = train_top1;
  j["test_loss"] = test.loss;
  j["test_top1"] = test.top1;
  j["test_top5"] = test.top5;
  j["seconds"] = seconds;
  if (!extra.empty())
    j["qat"] = extra;
  return j;
}

EpochMetrics EpochMetrics::from_json(const json& j) {
  EpochMetrics m;
  m.epoch = j.at("epoch").get<int64_t>();
  m.lr = j.at("lr").get<double>();
  m.train_loss = j.at("train_loss").get<double>();
  m.train_top1 = j.at("train_top1").get<double>();
  m.test.loss = j.at("test_loss").get<double>();
  m.test.top1 = j.at("test_top1").get<double>();
  m.test.top5 = j.at("test_top5").get<double>();
  m.seconds = j.at("seconds").get<double>();
  if (j.contains("qat"))
    m.extra = j.at("qat");
  return m;
}

namespace {

// ---- files of a run ----

// Writes `text` to `path` through a temporary file and a rename, so readers never see half a file.
void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    QNN_CHECK(out.good(), "train", "cannot write " << tmp.string());
    out << text;
    out.flush();
    QNN_CHECK(out.good(), "train", "cannot write " << tmp.string() << " (disk full?)");
  }
  fs::rename(tmp, path);
}

void write_metrics(const fs::path& dir, const std::vector<EpochMetrics>& history) {
  std::ostringstream csv, lines;
  csv << "epoch,lr,train_loss,train_top1,test_loss,test_top1,test_top5,seconds\n";
  char row[256];
  for (const EpochMetrics& m : history) {
    std::snprintf(row, sizeof row, "%lld,%.6g,%.6f,%.4f,%.6f,%.4f,%.4f,%.2f\n", static_cast<long long>(m.epoch), m.lr,
                  m.train_loss, m.train_top1, m.test.loss, m.test.top1, m.test.top5, m.seconds);
    csv << row;
    lines << m.to_json().dump() << '\n';
  }
  write_atomically(dir / "metrics.csv", csv.str());
  write_atomically(dir / "metrics.jsonl", lines.str());
}

// Where a run stands: the next epoch and batch to run, and the sums of the epoch in progress.
struct Position {
  int64_t epoch = 0;  // 0-based, the epoch in progress or next
  int64_t batch = 0;  // the next batch of that epoch
  double loss_sum = 0.0;
  int64_t correct = 0, seen = 0;
  double best_top1 = 0.0;
};

struct Run {
  std::shared_ptr<nn::Module> model;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<optim::LRScheduler> scheduler;
  std::unique_ptr<TrainHooks> hooks;  // QAT, or none
  std::vector<EpochMetrics> history;
  Position pos;
};

std::map<std::string, std::string> weights_metadata(const TrainConfig& c) {
  std::map<std::string, std::string> meta;
  meta["arch"] = c.model;
  meta["dataset"] = c.dataset;
  normalization_to_metadata(named_normalization(c.normalize), meta);
  return meta;
}

void save_checkpoint(const Run& run, const TrainConfig& config, const fs::path& path) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, t] : run.model->state_dict())
    tensors.emplace_back("model." + name, t);
  const optim::StateDict opt = run.optimizer->state_dict();
  for (const auto& [name, t] : opt.tensors)
    tensors.emplace_back("optim." + name, t);
  ojson state;
  if (run.hooks) {
    for (const auto& [name, t] : run.hooks->state_tensors())
      tensors.emplace_back(run.hooks->prefix() + "." + name, t);
    state[run.hooks->prefix()] = run.hooks->state_scalars();
  }
  state["epoch"] = run.pos.epoch;
  state["batch"] = run.pos.batch;
  state["loss_sum"] = run.pos.loss_sum;
  state["correct"] = run.pos.correct;
  state["seen"] = run.pos.seen;
  state["best_top1"] = run.pos.best_top1;
  state["optimizer"] = opt.scalars;
  state["scheduler"] = run.scheduler->state_dict();
  state["config"] = config.to_json();
  ojson history = ojson::array();
  for (const EpochMetrics& m : run.history)
    history.push_back(m.to_json());
  state["history"] = history;
  std::map<std::string, std::string> meta = weights_metadata(config);
  meta["qnn_checkpoint"] = "1";
  meta["state"] = state.dump();
  save_safetensors(path.string(), tensors, meta);
}

void load_checkpoint(Run& run, const std::string& path) {
  SafetensorsFile file = load_safetensors(path);
  QNN_CHECK(file.metadata.count("qnn_checkpoint") && file.metadata.count("state"), "train --resume",
            path << " is not a qnn training checkpoint (expected last.safetensors of a run folder)");
  const json state = json::parse(file.metadata.at("state"));
  nn::StateDict model_state;
  optim::StateDict opt;
  std::vector<std::pair<std::string, Tensor>> hook_tensors;
  const std::string hook_prefix = run.hooks ? run.hooks->prefix() + "." : std::string();
  for (auto& [name, t] : file.tensors) {
    if (name.rfind("model.", 0) == 0)
      model_state.emplace_back(name.substr(6), t);
    else if (name.rfind("optim.", 0) == 0)
      opt.tensors.emplace_back(name.substr(6), t);
    else if (run.hooks && name.rfind(hook_prefix, 0) == 0)
      hook_tensors.emplace_back(name.substr(hook_prefix.size()), t);
  }
  if (run.hooks) {
    QNN_CHECK(state.contains(run.hooks->prefix()), "train --resume",
              path << " has no " << run.hooks->prefix() << " state (expected a checkpoint of the same kind of run)");
    run.hooks->load_state(hook_tensors, state.at(run.hooks->prefix()));
  }
  run.model->load_state_dict(model_state, /*strict=*/true);
  opt.scalars = state.at("optimizer");
  run.optimizer->load_state_dict(opt);
  run.scheduler->load_state_dict(state.at("scheduler"));
  run.pos.epoch = state.at("epoch").get<int64_t>();
  run.pos.batch = state.at("batch").get<int64_t>();
  run.pos.loss_sum = state.at("loss_sum").get<double>();
  run.pos.correct = state.at("correct").get<int64_t>();
  run.pos.seen = state.at("seen").get<int64_t>();
  run.pos.best_top1 = state.at("best_top1").get<double>();
  run.history.clear();
  for (const json& m : state.at("history"))
    run.history.push_back(EpochMetrics::from_json(m));
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

json schedule_options(const TrainConfig& c) {
  if (!c.schedule.empty())
    return c.schedule;
  // Milestones at 50% and 75% of the run; a run too short to have them keeps a constant lr.
  json milestones = json::array();
  for (int64_t m : {c.epochs / 2, c.epochs * 3 / 4})
    if (m > 0 && (milestones.empty() || milestones.back().get<int64_t>() < m))
      milestones.push_back(m);
  if (milestones.empty())
    return {{"name", "constant"}};
  return {{"name", "multistep"}, {"milestones", milestones}, {"gamma", 0.1}};
}

// The first `limit` examples of `dataset` (all when limit <= 0 or beyond its size).
std::shared_ptr<const data::Dataset> first(std::shared_ptr<const data::Dataset> dataset, int64_t limit) {
  if (limit <= 0 || limit >= dataset->size())
    return dataset;
  std::vector<int64_t> indices(limit);
  for (int64_t i = 0; i < limit; ++i)
    indices[i] = i;
  return std::make_shared<data::Subset>(dataset, indices);
}

}  // namespace

TrainResult train(const TrainConfig& config, const ClassificationData& data, const std::string& resume,
                  std::ostream& log, const std::atomic<bool>* stop) {
  QNN_CHECK(data.train && data.test, "train", "got no training or test split");
  manual_seed(config.seed);  // the model's initial weights come from the global generator
  Run run;
  nn::ModelOptions model_options;
  model_options.num_classes = data.num_classes;
  run.model = nn::make_model(config.model, model_options);
  run.optimizer = make_optimizer(config, *run.model);
  run.scheduler = optim::make_scheduler(*run.optimizer, schedule_options(config));
  if (!config.init_weights.empty() && resume.empty()) {
    load_weights(*run.model, config.init_weights);
    log << "starting from the weights in " << config.init_weights << '\n';
  }
  const auto train_set = first(data.train, config.train_limit);
  const auto test_set = first(data.test, config.test_limit);
  data::DataLoader loader(train_set, config.batch, /*shuffle=*/true, /*drop_last=*/false, config.seed, config.workers);
  if (!config.qat.empty())
    run.hooks = make_qat_hooks(config, data.num_classes, *run.model, *run.optimizer, loader.size(), log);
  if (!resume.empty()) {
    load_checkpoint(run, resume);
    log << "resumed from " << resume << " at epoch " << run.pos.epoch + 1 << ", batch " << run.pos.batch << '\n';
  }

  const fs::path dir = config.run_dir();
  fs::create_directories(dir);
  write_atomically(dir / "config.json", config.to_json().dump(2) + "\n");

  EvalOptions eval_options;
  eval_options.batch_size = config.eval_batch;
  eval_options.workers = config.workers;

  TrainResult result;
  int64_t steps_this_call = 0;
  const std::vector<Tensor> params = run.model->parameters();
  for (; run.pos.epoch < config.epochs; ++run.pos.epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const double lr = run.optimizer->lr(0);
    run.model->train();
    loader.set_epoch(run.pos.epoch, run.pos.batch);
    ProgressBar bar("epoch " + std::to_string(run.pos.epoch + 1) + "/" + std::to_string(config.epochs), loader.size());
    bool stopped = false;
    for (const data::Batch& batch : loader) {
      const Tensor logits = (*run.model)(batch.images);
      const Tensor loss = cross_entropy(logits, batch.labels);
      run.optimizer->zero_grad();
      loss.backward();
      if (config.clip_grad_norm > 0.0)
        optim::clip_grad_norm_(params, config.clip_grad_norm);
      if (run.hooks)
        run.hooks->step();
      else
        run.optimizer->step();
      const int64_t n = batch.labels.size(0);
      int64_t top1 = 0, top5 = 0;
      {
        NoGradGuard no_grad;
        count_correct(logits.detach(), batch.labels, top1, top5);
      }
      run.pos.loss_sum += static_cast<double>(loss.item()) * static_cast<double>(n);
      run.pos.correct += top1;
      run.pos.seen += n;
      run.pos.batch = batch.index + 1;
      ++steps_this_call;
      char status[64];
      std::snprintf(status, sizeof status, "loss %.4f", run.pos.loss_sum / static_cast<double>(run.pos.seen));
      bar.update(run.pos.batch, run.pos.seen, status);
      if ((stop && stop->load()) || (config.stop_after_steps > 0 && steps_this_call >= config.stop_after_steps)) {
        stopped = true;
        break;
      }
    }
    bar.finish();
    if (stopped && run.pos.batch < loader.size()) {
      save_checkpoint(run, config, dir / "last.safetensors");
      log << "interrupted at epoch " << run.pos.epoch + 1 << ", batch " << run.pos.batch << "; resume with --resume "
          << (dir / "last.safetensors").string() << '\n';
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
    m.test = evaluate(*run.model, test_set, eval_options);
    std::string hook_text;
    if (run.hooks)
      std::tie(hook_text, m.extra) = run.hooks->epoch_end(m.epoch);
    run.scheduler->step();
    run.history.push_back(m);
    run.pos.batch = 0;
    run.pos.loss_sum = 0.0;
    run.pos.correct = run.pos.seen = 0;
    char line[256];
    std::snprintf(line, sizeof line,
                  "epoch %lld/%lld  lr %.4g  train loss %.4f  acc %.2f%%  |  test loss %.4f  acc %.2f%%  |  %.1f s "
                  "(%.0f img/s)",
                  static_cast<long long>(m.epoch), static_cast<long long>(config.epochs), m.lr, m.train_loss,
                  m.train_top1, m.test.loss, m.test.top1, m.seconds,
                  static_cast<double>(train_set->size()) / m.seconds);
    log << line << hook_text << std::endl;
    const bool best = m.test.top1 > run.pos.best_top1 || run.history.size() == 1;
    if (best) {
      run.pos.best_top1 = m.test.top1;
      save_weights(*run.model, (dir / "best.safetensors").string(), weights_metadata(config));
    }
    // The position after this epoch: the next one, from its first batch.
    ++run.pos.epoch;
    save_checkpoint(run, config, dir / "last.safetensors");
    --run.pos.epoch;
    write_metrics(dir, run.history);
    if (stopped) {  // stopped on the epoch's last batch: the epoch is complete and saved
      result.interrupted = true;
      ++run.pos.epoch;
      break;
    }
  }
  if (run.hooks && !result.interrupted)
    run.hooks->finish(
        *run.model, dir.string(), [&](nn::Module& m) { return evaluate(m, test_set, eval_options); }, log);
  result.history = run.history;
  result.best_top1 = run.pos.best_top1;
  return result;
}

}  // namespace qnn::apps
