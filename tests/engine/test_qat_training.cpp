// `qnn qat` end to end on a tiny model and a tiny CIFAR-format file: a QAT run interrupted
// mid-epoch and resumed is bit-identical to an uninterrupted one (latent weights, Q, step counter
// and base optimizer state in the checkpoint), the final model is exactly quantized and its
// quantized.safetensors evaluates identically when reloaded, the histogram data is written, and the
// PARQ recipe files in apps/configs/parq/ load and scale as the paper's schedule.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/autograd.h"
#include "core/config.h"
#include "core/error.h"
#include "core/io/safetensors.h"
#include "engine/evaluate.h"
#include "engine/qat_training.h"
#include "engine/recipe.h"
#include "engine/weights.h"
#include "nn/models/registry.h"
#include "quant/quantized_weights.h"
#include "tests/tiny_run.h"

using namespace qnn;
using namespace qnn::engine;
using qnn::quant::QatConfig;
namespace fs = std::filesystem;

namespace {

void register_qat_model() { qnn::testing::register_tiny_model("test_tiny_qat"); }
data::ClassificationData qat_data(const fs::path& dir) { return qnn::testing::tiny_data(dir); }

// 6 steps per epoch; QAT after 2 warmup steps, Q every 2 steps, PARQ hard from epoch 2 (step 12).
struct QatRun {
  TrainConfig train;
  QatConfig qat;
};

QatRun qat_config(const fs::path& out, const std::string& name, const std::string& method) {
  TrainConfig c;
  c.model = "test_tiny_qat";
  c.epochs = 3;
  c.batch = 16;
  c.eval_batch = 32;
  c.lr = 0.05;
  c.weight_decay = 1e-3;
  c.workers = 2;
  c.out_dir = out.string();
  c.run_name = name;
  const QatConfig q = QatConfig::from_json({{"method", method},
                                            {"bits", 2},
                                            {"warmup_steps", 2},
                                            {"quant_period", 2},
                                            {"steepness", 10.0},
                                            {"anneal_end_epoch", 2.0}});
  return {c, q};
}

std::vector<std::pair<std::string, std::vector<float>>> tensors_of(const std::string& path) {
  std::vector<std::pair<std::string, std::vector<float>>> out;
  for (const auto& [name, t] : load_safetensors(path).tensors)
    if (t.dtype() == DType::Float32)
      out.emplace_back(name, t.to_vector<float>());
  return out;
}

}  // namespace

TEST_SUITE("qat") {
  TEST_CASE("a QAT run interrupted mid-epoch and resumed equals an uninterrupted run, bit for bit") {
    register_qat_model();
    const fs::path root = fs::temp_directory_path() / ("qnn_test_qat_" + std::to_string(::getpid()));
    fs::remove_all(root);
    const data::ClassificationData data = qat_data(root / "data");
    std::ostringstream log;
    TrainCallbacks to_log;
    to_log.on_message = [&log](const std::string& text) { log << text << '\n'; };
    const QatRun full_run = qat_config(root, "full", "parq");
    const TrainResult full = train_qat(full_run.train, full_run.qat, data, to_log);
    REQUIRE(full.history.size() == 3);
    for (const char* file :
         {"last.safetensors", "quantized.safetensors", "latent_histogram.json", "qat_summary.json", "run.json"})
      CHECK_MESSAGE(fs::exists(root / "full" / file), file);
    // Epoch 1 anneals (t = 6 < 12), epochs 2-3 are hard and fully on Q.
    CHECK(full.history[0].extra.at("phase") == "anneal");
    CHECK(full.history[0].extra.at("fraction_on_Q").get<double>() < 1.0);
    CHECK(full.history[2].extra.at("phase") == "hard");
    CHECK(full.history[2].extra.at("fraction_on_Q").get<double>() == 1.0);
    CHECK(log.str().find("identical") != std::string::npos);

    QatRun part = qat_config(root, "parts", "parq");
    part.train.stop_after_steps = 9;  // mid-epoch 2
    CHECK(train_qat(part.train, part.qat, data, to_log).interrupted);
    const std::string checkpoint = (root / "parts" / "last.safetensors").string();
    part.train.stop_after_steps = 0;
    const TrainResult rest = train_qat(part.train, part.qat, data, to_log, checkpoint);
    REQUIRE(rest.history.size() == 3);
    for (size_t e = 0; e < 3; ++e) {
      CAPTURE(e);
      CHECK(rest.history[e].train_loss == full.history[e].train_loss);
      CHECK(rest.history[e].test_loss == full.history[e].test_loss);
      CHECK(nlohmann::json::parse(rest.history[e].extra.dump()) == nlohmann::json::parse(full.history[e].extra.dump()));
    }
    CHECK(tensors_of(checkpoint) == tensors_of((root / "full" / "last.safetensors").string()));
    CHECK(tensors_of((root / "parts" / "quantized.safetensors").string()) ==
          tensors_of((root / "full" / "quantized.safetensors").string()));
    fs::remove_all(root);
  }

  TEST_CASE("the quantized file holds exactly the trained weights and gives the same logits") {
    register_qat_model();
    const fs::path root = fs::temp_directory_path() / ("qnn_test_qat_file_" + std::to_string(::getpid()));
    fs::remove_all(root);
    const data::ClassificationData data = qat_data(root / "data");
    std::ostringstream log;
    TrainCallbacks to_log;
    to_log.on_message = [&log](const std::string& text) { log << text << '\n'; };
    for (const char* method : {"ste", "binaryrelax"}) {
      CAPTURE(method);
      const QatRun run = qat_config(root, method, method);
      const TrainResult r = train_qat(run.train, run.qat, data, to_log);
      const fs::path dir = root / method;
      // In memory at the end = the checkpoint's model (the map was hard already: nothing moved).
      CHECK(log.str().find("0 of 296 quantized weights moved") != std::string::npos);
      auto trained = nn::make_model("test_tiny_qat");
      load_weights(*trained, (dir / "last.safetensors").string());
      const quant::QuantizedFile f = quant::load_quantized((dir / "quantized.safetensors").string());
      CHECK(f.quantized.size() == 2);  // conv and linear weights; BN and the bias stay float
      CHECK(f.metadata.at("method") == method);
      auto reloaded = nn::make_model("test_tiny_qat");
      reloaded->load_state_dict(f.state, /*strict=*/true);
      trained->eval();
      reloaded->eval();
      NoGradGuard no_grad;
      const qnn::data::Example ex = data.test->get(0);
      const Tensor x = ex.image.unsqueeze(0);
      CHECK((*trained)(x).to_vector<float>() == (*reloaded)(x).to_vector<float>());
      const EvalResult a = evaluate(*trained, data.test), b = evaluate(*reloaded, data.test);
      CHECK(a.top1 == b.top1);
      CHECK(a.loss == b.loss);
      CHECK(a.top1 == r.history.back().test_top1);
      // Every quantized weight is one of the (here 4) levels of its Q.
      for (const auto& p : f.quantized)
        CHECK(p.alphabets.at(0).size() == 4);
    }
    fs::remove_all(root);
  }

  TEST_CASE("qat config: defaults, ternary, unknown keys") {
    const QatConfig c = QatConfig::from_json({{"bits", "ternary"}, {"method", "binaryrelax"}});
    CHECK(c.bit_width() == 0);
    CHECK(c.bits_name() == "ternary");
    CHECK(QatConfig::from_json(c.to_json()).to_json() == c.to_json());
    CHECK_THROWS_AS(QatConfig::from_json({{"bit", 2}}), Error);
    CHECK_THROWS_AS(QatConfig::from_json({{"method", "lsq"}}), Error);
    CHECK_THROWS_AS(QatConfig::from_json({{"bits", 5}}), Error);
  }

  TEST_CASE("apps/configs/parq/*.json load as a TrainConfig and a QatConfig; scaled, the schedule keeps its shape") {
    const fs::path dir = fs::path(QNN_TEST_DATA_DIR) / ".." / ".." / "apps" / "configs" / "parq";
    const std::vector<std::pair<std::string, std::string>> bits = {
        {"1", "1bit"}, {"ternary", "ternary"}, {"2", "2bit"}, {"3", "3bit"}, {"4", "4bit"}};
    const nlohmann::json table = read_json_file((dir / "table1.json").string(), "test");
    int files = 0;
    for (const auto& [b, suffix] : bits) {
      for (const char* model : {"resnet20", "resnet56", "resnet50", "deit_tiny", "deit_small", "deit_base"}) {
        const bool cifar = std::string(model).rfind("resnet", 0) == 0 && std::string(model) != "resnet50";
        nlohmann::json j = read_json_file(
            (dir / (std::string(model) + (cifar ? "_cifar10_" : "_imagenet_") + suffix + ".json")).string(), "test");
        const QatConfig q = QatConfig::from_json(j.at("qat"));
        CHECK(q.bits_name() == (b == "ternary" ? "ternary" : b + "-bit"));
        CHECK(q.method == "parq");
        j.erase("qat");
        CHECK_NOTHROW(TrainConfig::from_json(j));
        if (cifar) {  // the paper's Table 1 recipe (Section 5 of the PARQ paper)
          CHECK(j.at("epochs") == 200);
          CHECK(j.at("schedule").at("milestones") == nlohmann::json({80, 120, 150}));
          CHECK(q.anneal_end_epoch == 150.0);
          CHECK(table.at("cells").at(model).contains(b));
        }
        ++files;
      }
    }
    CHECK(files == 30);
    // Scaled recipe: 0.05 -> 10 epochs, milestones 4/6/8, anneal end 7.5.
    const auto s = scale_epochs(read_json_file((dir / "resnet20_cifar10_2bit.json").string(), "test"), 0.05);
    CHECK(s.at("epochs") == 10);
    CHECK(s.at("schedule").at("milestones") == nlohmann::json({4, 6, 8}));
    CHECK(s.at("qat").at("anneal_end_epoch").get<double>() == doctest::Approx(7.5));
    CHECK(table.at("cells").at("resnet20").at("2").at(2).at(0) == 91.71);  // PARQ, Table 1
    CHECK_THROWS_AS(scale_epochs(s, 0.0), Error);
  }
}
