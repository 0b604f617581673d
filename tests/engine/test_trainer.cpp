// Training end to end on a tiny model and a tiny CIFAR-format file: the loss falls, the run folder
// holds what it should, and a run interrupted mid-epoch and resumed gives bit-identical metrics
// and weights to an uninterrupted one.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/autograd.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/io/safetensors.h"
#include "core/ops.h"
#include "engine/evaluate.h"
#include "engine/memory_check.h"
#include "engine/trainer.h"
#include "engine/weights.h"
#include "nn/models/registry.h"
#include "tests/tiny_run.h"

using namespace qnn;
using namespace qnn::engine;
using qnn::testing::register_tiny_model;
using qnn::testing::tiny_data;
namespace fs = std::filesystem;

namespace {

TrainConfig tiny_config(const fs::path& out, const std::string& name) {
  TrainConfig c;
  c.model = "test_tiny";
  c.epochs = 3;
  c.batch = 16;
  c.eval_batch = 32;
  c.lr = 0.05;
  c.workers = 2;
  c.out_dir = out.string();
  c.run_name = name;
  return c;
}

std::vector<float> weights_of(const std::string& path) {
  std::vector<float> all;
  for (const auto& [name, t] : load_safetensors(path).tensors)
    if (t.dtype() == DType::Float32)
      for (float v : t.to_vector<float>())
        all.push_back(v);
  return all;
}

}  // namespace

TEST_CASE("a run interrupted mid-epoch and resumed equals an uninterrupted run, bit for bit") {
  register_tiny_model();
  const fs::path root = fs::temp_directory_path() / ("qnn_test_train_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const data::ClassificationData data = tiny_data(root / "data");

  const TrainResult full = train(tiny_config(root, "full"), data);
  REQUIRE(full.history.size() == 3);
  CHECK_FALSE(full.interrupted);
  CHECK(full.history.back().train_loss < full.history.front().train_loss);  // it learns
  for (const char* file :
       {"config.json", "run.json", "metrics.csv", "metrics.jsonl", "last.safetensors", "best.safetensors"})
    CHECK_MESSAGE(fs::exists(root / "full" / file), file);

  // 6 batches per epoch: stop in the middle of epoch 2 (step 9), then twice more at epoch ends.
  TrainConfig part = tiny_config(root, "parts");
  part.stop_after_steps = 9;
  const TrainResult first = train(part, data);
  CHECK(first.interrupted);
  REQUIRE(first.history.size() == 1);
  const std::string checkpoint = (root / "parts" / "last.safetensors").string();
  part.stop_after_steps = 3;  // ends exactly at the end of epoch 2
  const TrainResult second = train(part, data, {}, checkpoint);
  CHECK(second.interrupted);
  REQUIRE(second.history.size() == 2);
  part.stop_after_steps = 0;
  const TrainResult rest = train(part, data, {}, checkpoint);
  CHECK_FALSE(rest.interrupted);
  REQUIRE(rest.history.size() == 3);

  for (size_t e = 0; e < 3; ++e) {
    CAPTURE(e);
    CHECK(rest.history[e].lr == full.history[e].lr);
    CHECK(rest.history[e].train_loss == full.history[e].train_loss);
    CHECK(rest.history[e].train_top1 == full.history[e].train_top1);
    CHECK(rest.history[e].test_loss == full.history[e].test_loss);
    CHECK(rest.history[e].test_top1 == full.history[e].test_top1);
  }
  CHECK(weights_of((root / "parts" / "last.safetensors").string()) ==
        weights_of((root / "full" / "last.safetensors").string()));
  CHECK(weights_of((root / "parts" / "best.safetensors").string()) ==
        weights_of((root / "full" / "best.safetensors").string()));

  // The checkpoint also loads as plain weights (qnn eval --weights last.safetensors).
  auto model = nn::make_model("test_tiny");
  CHECK_NOTHROW(load_weights(*model, checkpoint));
  fs::remove_all(root);
}

TEST_CASE("train config: unknown keys and bad values are errors") {
  CHECK_THROWS_WITH_AS(TrainConfig::from_json({{"epoch", 3}}), doctest::Contains("unknown key 'epoch'"), Error);
  CHECK_THROWS_WITH_AS(TrainConfig::from_json({{"optimizer", "adam"}}), doctest::Contains("expected sgd or adamw"),
                       Error);
  CHECK_THROWS_WITH_AS(TrainConfig::from_json({{"batch", 0}}), doctest::Contains("expected all >= 1"), Error);
  CHECK_THROWS_AS(TrainConfig::from_json({{"lr", "fast"}}), Error);
  const TrainConfig c = TrainConfig::from_json({{"epochs", 7}, {"lr", 0.2}});
  CHECK(c.epochs == 7);
  CHECK(c.lr == 0.2);
  CHECK(c.batch == 128);  // default kept
  CHECK(TrainConfig::from_json(c.to_json()).to_json() == c.to_json());
}

TEST_CASE("the run folder records how the run was made; a resume adds to the record") {
  register_tiny_model();
  const fs::path root = fs::temp_directory_path() / ("qnn_test_record_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const data::ClassificationData data = tiny_data(root / "data");
  TrainConfig c = tiny_config(root, "rec");
  c.stop_after_steps = 3;
  CHECK(train(c, data).interrupted);
  c.stop_after_steps = 0;
  const TrainResult r = train(c, data, {}, (root / "rec" / "last.safetensors").string());
  std::ifstream in(root / "rec" / "run.json");
  const nlohmann::json rec = nlohmann::json::parse(in);
  CHECK(rec.at("created").at("qnn").at("commit").get<std::string>().size() >= 7);
  CHECK(rec.at("created").at("qnn").at("version") == QNN_VERSION);
  CHECK(rec.at("created").at("threads").get<int>() >= 1);
  CHECK(!rec.at("created").at("blas").get<std::string>().empty());
  CHECK(rec.at("config").at("model") == "test_tiny");
  CHECK(rec.at("seeds").at("seed") == 1);
  CHECK(rec.at("normalization").at("name") == "cifar10");
  CHECK(rec.at("best_checkpoint").at("selected_on") == "test");
  CHECK(rec.at("best_checkpoint").at("test_top1").get<double>() == r.best_top1);
  REQUIRE(rec.at("resumed").size() == 1);
  CHECK(rec.at("resumed").at(0).at("from") == (root / "rec" / "last.safetensors").string());
  std::ifstream cfg(root / "rec" / "config.json");
  CHECK(nlohmann::json::parse(cfg) == c.to_json());
  fs::remove_all(root);
}

TEST_CASE("metrics of an epoch round-trip through their JSON (metrics.jsonl)") {
  EpochMetrics m;
  m.epoch = 3;
  m.lr = 0.01;
  m.test_top1 = 55.5;
  m.extra = {{"phase", "hard"}};
  const nlohmann::json j = m;
  CHECK(j.at("test_top1") == 55.5);
  const EpochMetrics back = j.get<EpochMetrics>();
  CHECK(nlohmann::json(back) == j);
}

TEST_CASE("input normalization: given, from the weights' metadata (auto), or the dataset's") {
  register_tiny_model();
  const fs::path root = fs::temp_directory_path() / ("qnn_test_norm_" + std::to_string(::getpid()));
  fs::create_directories(root);
  auto model = nn::make_model("test_tiny");
  std::map<std::string, std::string> meta;
  normalization_to_metadata(data::named_normalization("imagenet"), meta);
  const std::string with = (root / "with.safetensors").string(), without = (root / "without.safetensors").string();
  save_weights(*model, with, meta);
  save_weights(*model, without, {});
  std::string source;
  CHECK(resolve_normalization("auto", with, "cifar10", &source) == data::named_normalization("imagenet"));
  CHECK(source.find("metadata") != std::string::npos);
  CHECK(resolve_normalization("auto", without, "cifar10") == data::named_normalization("cifar10"));
  CHECK(resolve_normalization("auto", "", "imagenet") == data::named_normalization("imagenet"));
  CHECK(resolve_normalization("cifar10", with, "cifar10") == data::named_normalization("cifar10"));
  CHECK_THROWS_AS(resolve_normalization("mnist", "", "cifar10"), Error);
  // A run from `with` (normalize auto) records the weights' statistics in its checkpoints.
  TrainConfig c = tiny_config(root, "from");
  c.init_weights = with;
  c.epochs = 1;
  const auto loaded = make_run_model(c, 10);
  CHECK(loaded->state_dict().size() == model->state_dict().size());
  fs::remove_all(root);
}

namespace {

// The tiny model with its last Linear set to `value` (weights and bias).
std::shared_ptr<nn::Module> tiny_with_head(float value) {
  register_tiny_model();
  auto model = nn::make_model("test_tiny");
  NoGradGuard no_grad;
  for (auto& [name, t] : model->state_dict())
    if (name.rfind("5.", 0) == 0)
      fill_(t, value);
  return model;
}

}  // namespace

TEST_CASE("accuracy never flatters: ties rank by index as torch.topk, non-finite logits give no accuracy") {
  const fs::path root = fs::temp_directory_path() / ("qnn_test_honest_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const data::ClassificationData data = tiny_data(root / "data");  // labels i % 10 over 40 test images
  // All-zero head: every logit ties, the prediction is class 0 (argmax), top-5 is classes 0..4.
  const EvalResult zero = evaluate(*tiny_with_head(0.0f), data.test);
  CHECK(zero.top1 == doctest::Approx(10.0));
  CHECK(zero.top5 == doctest::Approx(50.0));
  CHECK(zero.nonfinite == 0);
  // An infinite head: every logit is +-inf or NaN; no accuracy, and the loss says so.
  const EvalResult inf = evaluate(*tiny_with_head(INFINITY), data.test);
  CHECK(inf.nonfinite == 40);
  CHECK(std::isnan(inf.top1));
  CHECK(std::isnan(inf.top5));
  CHECK_FALSE(std::isfinite(inf.loss));
  // By hand: ties go to the lower index; a row with an inf is counted apart.
  const Tensor logits = from_vector<float>({1, 1, 1, 1, 1, 1, 0, 2, 2, 0, 0, 0, 0, INFINITY, 0, 0, 0, 0}, {3, 6});
  int64_t top1 = 0, top5 = 0, nonfinite = 0;
  count_correct(logits, from_vector<int64_t>({0, 2, 1}, {3}), top1, top5, &nonfinite);
  CHECK(top1 == 1);  // row 0, label 0 wins the tie; row 1, label 2 loses the tie to class 1
  CHECK(top5 == 2);
  CHECK(nonfinite == 1);
  top1 = top5 = 0;
  count_correct(logits, from_vector<int64_t>({5, 1, 1}, {3}), top1, top5);
  CHECK(top1 == 1);  // row 1: class 1 (first of the tied maxima)
  CHECK(top5 == 1);  // row 0: label 5 ranks sixth among six tied logits
  fs::remove_all(root);
}

TEST_CASE("weights with NaN, inf or a negative running variance are refused, naming the tensor") {
  register_tiny_model();
  const fs::path root = fs::temp_directory_path() / ("qnn_test_badweights_" + std::to_string(::getpid()));
  fs::create_directories(root);
  auto model = nn::make_model("test_tiny");
  nn::StateDict state = model->state_dict();
  const std::string path = (root / "w.safetensors").string();
  auto save_with = [&](const std::string& key, float value) {
    nn::StateDict changed;
    for (const auto& [name, t] : state)
      changed.emplace_back(name, name == key ? full(t.shape(), value) : t);
    save_safetensors(path, changed, {});
  };
  save_with("0.weight", NAN);
  CHECK_THROWS_WITH_AS(load_weights(*model, path), doctest::Contains("0.weight[0] is nan (expected finite values)"),
                       Error);
  save_with("5.bias", INFINITY);
  CHECK_THROWS_WITH_AS(load_weights(*model, path), doctest::Contains("5.bias[0] is inf"), Error);
  save_with("1.running_var", -1.0f);
  CHECK_THROWS_WITH_AS(load_weights(*model, path),
                       doctest::Contains("1.running_var[0] is -1 (expected a variance >= 0)"), Error);
  save_with("1.running_var", 0.5f);
  CHECK_NOTHROW(load_weights(*model, path));
  fs::remove_all(root);
}

TEST_CASE("a non-finite training loss stops the run with a clear error, or skips the step when asked") {
  register_tiny_model();
  const fs::path root = fs::temp_directory_path() / ("qnn_test_nonfinite_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const data::ClassificationData data = tiny_data(root / "data");
  TrainConfig c = tiny_config(root, "diverge");
  c.lr = 1e30;
  c.epochs = 2;
  CHECK_THROWS_WITH_AS(train(c, data), doctest::Contains("expected a finite loss"), Error);
  c.run_name = "skip";
  c.on_nonfinite = "skip";
  const TrainResult r = train(c, data);
  REQUIRE(r.history.size() == 2);
  CHECK(r.history[0].skipped_steps + r.history[1].skipped_steps > 0);
  CHECK(r.history[1].skipped_steps <= 6);
  CHECK_THROWS_WITH_AS(TrainConfig::from_json({{"on_nonfinite", "ignore"}}), doctest::Contains("expected stop or skip"),
                       Error);
  fs::remove_all(root);
}

TEST_CASE("a run folder is never reused unasked, and a resume that does not fit changes nothing") {
  register_tiny_model();
  const fs::path root = fs::temp_directory_path() / ("qnn_test_reuse_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const data::ClassificationData data = tiny_data(root / "data");
  TrainConfig c = tiny_config(root, "run");
  c.epochs = 1;
  train(c, data);
  const std::string best = (root / "run" / "best.safetensors").string();
  const std::vector<float> first = weights_of(best);
  c.seed = 2;
  CHECK_THROWS_WITH_AS(train(c, data), doctest::Contains("already holds a run"), Error);
  CHECK(weights_of(best) == first);
  c.overwrite = true;
  CHECK_NOTHROW(train(c, data));
  CHECK(weights_of(best) != first);

  // A resume whose run-defining values differ is refused before any file changes.
  std::ifstream before_in(root / "run" / "config.json");
  const std::string before((std::istreambuf_iterator<char>(before_in)), {});
  TrainConfig other = c;
  other.overwrite = false;
  other.batch = 32;
  other.train_limit = 48;
  const std::string checkpoint = (root / "run" / "last.safetensors").string();
  CHECK_THROWS_WITH_AS(train(other, data, {}, checkpoint), doctest::Contains("batch: 16 in the checkpoint, 32 now"),
                       Error);
  CHECK_THROWS_WITH_AS(train(other, data, {}, checkpoint),
                       doctest::Contains("train_limit: 0 in the checkpoint, 48 now"), Error);
  std::ifstream after_in(root / "run" / "config.json");
  CHECK(std::string((std::istreambuf_iterator<char>(after_in)), {}) == before);
  // Values a resume may change (threads, the eval batch) are not a different run.
  TrainConfig same = c;
  same.overwrite = false;
  same.workers = 1;
  same.eval_batch = 8;
  same.epochs = 1;
  CHECK_NOTHROW(train(same, data, {}, checkpoint));
  fs::remove_all(root);
}

TEST_CASE("a batch that cannot fit in memory is an error before anything is allocated for it") {
  register_tiny_model();
  const fs::path root = fs::temp_directory_path() / ("qnn_test_batchmem_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const data::ClassificationData data = tiny_data(root / "data");
  auto model = nn::make_model("test_tiny");
  const nn::StateDict before = model->state_dict();
  std::vector<std::vector<float>> values;
  for (const auto& [name, t] : before)
    values.push_back(t.to_vector<float>());
  // Grows with the batch: linear in it, and the probe leaves the model as it was.
  const int64_t none = estimate_step_bytes(*model, *data.train, 0),
                small = estimate_step_bytes(*model, *data.train, 16),
                big = estimate_step_bytes(*model, *data.train, 1600);
  CHECK(small > none);
  CHECK(big - small == 99 * (small - none));  // (1600 - 16) / 16 times the bytes of 16 images
  const nn::StateDict after = model->state_dict();
  for (size_t i = 0; i < after.size(); ++i)
    CHECK(after[i].second.to_vector<float>() == values[i]);
  for (const Tensor& p : model->parameters())
    CHECK_FALSE(p.grad().defined());
  CHECK_THROWS_WITH_AS(check_batch_fits(*model, *data.train, int64_t{1} << 40), doctest::Contains("GB per step"),
                       Error);
  CHECK_NOTHROW(check_batch_fits(*model, *data.train, 4096));
  fs::remove_all(root);
}

TEST_CASE("a checkpoint with a broken state is named, with what is wrong") {
  register_tiny_model();
  const fs::path root = fs::temp_directory_path() / ("qnn_test_badckpt_" + std::to_string(::getpid()));
  fs::remove_all(root);
  const data::ClassificationData data = tiny_data(root / "data");
  auto model = nn::make_model("test_tiny");
  const std::string path = (root / "bad.safetensors").string();
  nn::StateDict prefixed;
  for (const auto& [name, t] : model->state_dict())
    prefixed.emplace_back("model." + name, t);
  save_safetensors(path, prefixed, {{"qnn_checkpoint", "1"}, {"state", "{\"config\": {}}"}});
  CHECK_THROWS_WITH_AS(train(tiny_config(root, "r"), data, {}, path),
                       doctest::Contains("bad.safetensors: the checkpoint's state is incomplete or malformed"), Error);
  save_safetensors(path, model->state_dict(), {{"qnn_checkpoint", "1"}, {"state", "{\"config\": {}}"}});
  CHECK_THROWS_WITH_AS(train(tiny_config(root, "r"), data, {}, path),
                       doctest::Contains("bad.safetensors: Sequential::load_state_dict"), Error);
  save_safetensors(path, model->state_dict(), {{"qnn_checkpoint", "1"}, {"state", "{not json"}});
  CHECK_THROWS_WITH_AS(train(tiny_config(root, "r"), data, {}, path), doctest::Contains("is not valid JSON"), Error);
  save_safetensors(path, model->state_dict(), {});
  CHECK_THROWS_WITH_AS(train(tiny_config(root, "r"), data, {}, path),
                       doctest::Contains("is not a qnn training checkpoint"), Error);
  CHECK_FALSE(fs::exists(root / "r"));  // nothing was written for the failed resumes
  fs::remove_all(root);
}
