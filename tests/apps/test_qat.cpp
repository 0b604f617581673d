// `qnn qat` end to end on a tiny model and a tiny CIFAR-format file: a QAT run interrupted
// mid-epoch and resumed is bit-identical to an uninterrupted one (latent weights, Q, step counter
// and base optimizer state in the checkpoint), the final model is exactly quantized and its
// quantized.safetensors evaluates identically when reloaded, the histogram is written, and the
// PARQ recipe files in apps/configs/parq/ are the recipes of apps/parq_recipes.h.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/parq_recipes.h"
#include "apps/qat_hooks.h"
#include "apps/trainer.h"
#include "apps/weights.h"
#include "core/autograd.h"
#include "core/error.h"
#include "core/generator.h"
#include "core/io/safetensors.h"
#include "datasets/cifar.h"
#include "datasets/transforms.h"
#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/flatten.h"
#include "nn/linear.h"
#include "nn/models/registry.h"
#include "nn/pooling.h"
#include "nn/sequential.h"
#include "quant/quantized_weights.h"

using namespace qnn;
using namespace qnn::apps;
namespace fs = std::filesystem;

namespace {

// conv (stride 2) -> BN -> ReLU -> global pool -> linear: two quantized weights, BN and a bias in FP.
void register_qat_model() {
  static const bool once = [] {
    nn::register_model({"test_tiny_qat", "a tiny conv net for QAT tests", [](const nn::ModelOptions& o) {
                          auto net = std::make_shared<nn::Sequential>();
                          nn::Conv2dArgs args;
                          args.stride = 2;
                          args.padding = 1;
                          net->push_back(std::make_shared<nn::Conv2d>(3, 8, 3, args, o.generator()));
                          net->push_back(std::make_shared<nn::BatchNorm2d>(8));
                          net->push_back(std::make_shared<nn::ReLU>());
                          net->push_back(std::make_shared<nn::AdaptiveAvgPool2d>(1));
                          net->push_back(std::make_shared<nn::Flatten>());
                          net->push_back(std::make_shared<nn::Linear>(8, o.num_classes, true, o.generator()));
                          return std::static_pointer_cast<nn::Module>(net);
                        }});
    return true;
  }();
  (void)once;
}

// CIFAR-10-format records whose class is readable from the red plane's brightness.
std::string write_cifar(const fs::path& dir, int64_t n, uint64_t seed) {
  fs::create_directories(dir);
  const fs::path path = dir / "tiny.bin";
  std::ofstream out(path, std::ios::binary);
  Generator gen(seed);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t label = static_cast<uint8_t>(i % 10);
    out.put(static_cast<char>(label));
    for (int64_t k = 0; k < 3072; ++k)
      out.put(static_cast<char>(static_cast<uint8_t>((k < 1024 ? 20.0 * label : 100.0) + 40.0 * gen.uniform())));
  }
  return path.string();
}

ClassificationData qat_data(const fs::path& dir) {
  ClassificationData d;
  const auto norm = named_normalization("cifar10");
  d.train = std::make_shared<data::Cifar>(data::CifarVariant::Cifar10,
                                          std::vector<std::string>{write_cifar(dir / "train", 96, 1)},
                                          data::cifar_train_transform(norm.mean, norm.std));
  d.test = std::make_shared<data::Cifar>(data::CifarVariant::Cifar10,
                                         std::vector<std::string>{write_cifar(dir / "test", 40, 2)},
                                         data::cifar_test_transform(norm.mean, norm.std));
  d.num_classes = 10;
  return d;
}

// 6 steps per epoch; QAT after 2 warmup steps, Q every 2 steps, PARQ hard from epoch 2 (step 12).
TrainConfig qat_config(const fs::path& out, const std::string& name, const std::string& method) {
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
  c.qat = {{"method", method},  {"bits", 2},         {"warmup_steps", 2},
           {"quant_period", 2}, {"steepness", 10.0}, {"anneal_end_epoch", 2.0}};
  return c;
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
    const ClassificationData data = qat_data(root / "data");
    std::ostringstream log;
    const TrainResult full = train(qat_config(root, "full", "parq"), data, "", log);
    REQUIRE(full.history.size() == 3);
    for (const char* file : {"last.safetensors", "quantized.safetensors", "latent_histogram.svg", "qat_summary.json"})
      CHECK_MESSAGE(fs::exists(root / "full" / file), file);
    // Epoch 1 anneals (t = 6 < 12), epochs 2-3 are hard and fully on Q.
    CHECK(full.history[0].extra.at("phase") == "anneal");
    CHECK(full.history[0].extra.at("fraction_on_Q").get<double>() < 1.0);
    CHECK(full.history[2].extra.at("phase") == "hard");
    CHECK(full.history[2].extra.at("fraction_on_Q").get<double>() == 1.0);
    CHECK(log.str().find("identical") != std::string::npos);

    TrainConfig part = qat_config(root, "parts", "parq");
    part.stop_after_steps = 9;  // mid-epoch 2
    CHECK(train(part, data, "", log).interrupted);
    const std::string checkpoint = (root / "parts" / "last.safetensors").string();
    part.stop_after_steps = 0;
    const TrainResult rest = train(part, data, checkpoint, log);
    REQUIRE(rest.history.size() == 3);
    for (size_t e = 0; e < 3; ++e) {
      CAPTURE(e);
      CHECK(rest.history[e].train_loss == full.history[e].train_loss);
      CHECK(rest.history[e].test.loss == full.history[e].test.loss);
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
    const ClassificationData data = qat_data(root / "data");
    std::ostringstream log;
    for (const char* method : {"ste", "binaryrelax"}) {
      CAPTURE(method);
      const TrainResult r = train(qat_config(root, method, method), data, "", log);
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
      const data::Example ex = data.test->get(0);
      const Tensor x = ex.image.unsqueeze(0);
      CHECK((*trained)(x).to_vector<float>() == (*reloaded)(x).to_vector<float>());
      const EvalResult a = evaluate(*trained, data.test), b = evaluate(*reloaded, data.test);
      CHECK(a.top1 == b.top1);
      CHECK(a.loss == b.loss);
      CHECK(a.top1 == r.history.back().test.top1);
      // Every quantized weight is one of the (here 4) levels of its Q.
      for (const auto& p : f.quantized)
        CHECK(p.alphabets.at(0).size() == 4);
    }
    fs::remove_all(root);
  }

  TEST_CASE("qat config: defaults, ternary, unknown keys") {
    const QatConfig c = QatConfig::from_json({{"bits", "ternary"}, {"method", "binaryrelax"}});
    CHECK(c.bits == 0);
    CHECK(c.bits_name() == "ternary");
    CHECK(QatConfig::from_json(c.to_json()).to_json() == c.to_json());
    CHECK_THROWS_AS(QatConfig::from_json({{"bit", 2}}), Error);
    CHECK_THROWS_AS(QatConfig::from_json({{"method", "lsq"}}), Error);
    CHECK_THROWS_AS(QatConfig::from_json({{"bits", 5}}), Error);
  }

  TEST_CASE("apps/configs/parq/*.json are the paper recipes of apps/parq_recipes.h, and load") {
    const fs::path dir = fs::path(QNN_TEST_DATA_DIR) / ".." / ".." / "apps" / "configs" / "parq";
    const std::vector<std::pair<std::string, std::string>> bits = {
        {"1", "1bit"}, {"ternary", "ternary"}, {"2", "2bit"}, {"3", "3bit"}, {"4", "4bit"}};
    int files = 0;
    for (const auto& [b, suffix] : bits) {
      for (const char* model : {"resnet20", "resnet56"}) {
        std::ifstream in(dir / (std::string(model) + "_cifar10_" + suffix + ".json"));
        REQUIRE(in.good());
        const nlohmann::json j = nlohmann::json::parse(in);
        CHECK(j == nlohmann::json(parq_cifar_recipe(model, b, "parq")));
        CHECK_NOTHROW(TrainConfig::from_json(j));
        CHECK_NOTHROW(QatConfig::from_json(j.at("qat")));
        ++files;
      }
      for (const char* model : {"resnet50", "deit_tiny", "deit_small", "deit_base"}) {
        std::ifstream in(dir / (std::string(model) + "_imagenet_" + suffix + ".json"));
        REQUIRE(in.good());
        const nlohmann::json j = nlohmann::json::parse(in);
        CHECK(j == nlohmann::json(parq_imagenet_recipe(model, b, "parq")));
        CHECK_NOTHROW(QatConfig::from_json(j.at("qat")));
        ++files;
      }
    }
    CHECK(files == 30);
    // Scaled recipe: 0.05 -> 10 epochs, milestones 4/6/8, anneal end 7.5.
    const auto s = parq_cifar_recipe("resnet20", "2", "ste", 0.05);
    CHECK(s.at("epochs") == 10);
    CHECK(s.at("schedule").at("milestones") == nlohmann::json({4, 6, 8}));
    CHECK(s.at("qat").at("anneal_end_epoch").get<double>() == doctest::Approx(7.5));
    CHECK(parq_table1("resnet20", "2", "parq").mean == 91.71);
  }
}
