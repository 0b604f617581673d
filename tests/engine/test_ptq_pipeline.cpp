// `qnn ptq` on real data (skipped with a reason when QNN_DATA_DIR is unset): GPFQ of the
// pretrained ResNet-20 beats round-to-nearest, its saved file (codes + levels) evaluates exactly
// like the in-memory model, bad input gives clear errors, and the ImageNet path runs end to end
// on the sample JPEGs with random weights.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "core/config.h"
#include "core/error.h"
#include "datasets/presets.h"
#include "engine/evaluate.h"
#include "engine/ptq_pipeline.h"
#include "engine/weights.h"
#include "nn/models/registry.h"
#include "tests/data_dir.h"

using namespace qnn;
using namespace qnn::engine;
using namespace qnn::data;

namespace {

std::filesystem::path temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "qnn_test_ptq" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("parse_range: FROM:TO:STEP, inclusive; malformed ranges are errors") {
  const auto r = parse_range("1.0:2.0:0.25");
  REQUIRE(r.size() == 5);
  CHECK(r.front() == 1.0);
  CHECK(r.back() == 2.0);
  CHECK(parse_range("1.0:2.0:0.05").size() == 21);
  CHECK_THROWS_WITH_AS(parse_range("1.0-2.0"), doctest::Contains("FROM:TO:STEP"), Error);
  CHECK_THROWS_AS(parse_range("2:1:0.1"), Error);
  // Unbounded grids are refused before they are built.
  CHECK_THROWS_WITH_AS(parse_range("1:inf:1"), doctest::Contains("at most 10000 points"), Error);
  CHECK_THROWS_WITH_AS(parse_range("1:2:1e-12"), doctest::Contains("at most 10000 points"), Error);
}

TEST_CASE("qnn ptq: GPFQ of the pretrained ResNet-20 beats RTN at 4 bits; the saved file evaluates identically") {
#if defined(__SANITIZE_ADDRESS__)
  MESSAGE("skipped under AddressSanitizer: a GPFQ pass at -O1 takes minutes; the Release run checks this");
  return;
#endif
  const char* root = qnn::testing::data_dir_or_skip();
  if (!root)
    return;
  const auto dir = temp_dir("r20");
  PtqRunConfig c;
  c.model = "resnet20";
  c.weights = std::string(root) + "/pretrained/resnet20.safetensors";
  c.data_dir = std::string(root) + "/cifar-10-batches-bin";
  c.bits = {"4"};
  c.m = 128;
  c.test_limit = 1000;
  c.out = (dir / "q.safetensors").string();
  std::ostringstream log;
  const PtqRunResult r = run_ptq(c, log);
  MESSAGE("first 1000 test images: float " << r.fp.top1 << "%, RTN " << r.rtn.top1 << "%, GPFQ " << r.quantized.top1
                                           << "%");
  CHECK(r.quantized.top1 > r.rtn.top1 + 2.0);  // 4 bits, C 1.16: RTN loses ~5 points, GPFQ < 1
  CHECK(r.quantized.top1 > r.fp.top1 - 1.5);
  CHECK(r.ptq.layers.size() == 20);
  CHECK(r.file_bytes < r.float_bytes / 4);  // 5-bit codes instead of 32-bit floats
  CHECK(log.str().find("layer3.2.conv2") != std::string::npos);
  // Reload through the path `qnn eval` uses.
  auto model = nn::make_model("resnet20");
  const auto meta = load_weights(*model, c.out);
  CHECK(meta.at("method") == "gpfq");
  Normalization norm;
  REQUIRE(normalization_from_metadata(meta, norm));  // the pretrained weights' own, carried into the file
  ClassificationData data = load_classification_data("cifar10", c.data_dir, norm, false);
  std::vector<int64_t> first(1000);
  for (int64_t i = 0; i < 1000; ++i)
    first[i] = i;
  const EvalResult again = evaluate(*model, std::make_shared<qnn::data::Subset>(data.test, first));
  CHECK(again.top1 == r.quantized.top1);
  CHECK(again.loss == doctest::Approx(r.quantized.loss).epsilon(1e-9));
  std::filesystem::remove_all(dir);
}

TEST_CASE("qnn ptq: bad input gives clear errors") {
  const char* root = qnn::testing::data_dir_or_skip();
  if (!root)
    return;
  PtqRunConfig c;
  c.weights = std::string(root) + "/pretrained/resnet20.safetensors";
  c.data_dir = std::string(root) + "/cifar-10-batches-bin";
  std::ostringstream log;
  c.bits = NumberOrWord{"0"};
  CHECK_THROWS_WITH_AS(run_ptq(c, log), doctest::Contains("--bits 0"), Error);
  c.bits = NumberOrWord{"four"};
  CHECK_THROWS_WITH_AS(run_ptq(c, log), doctest::Contains("expected 1..16, ternary or binary"), Error);
  c.bits = NumberOrWord{"4"};
  c.C = -1;
  CHECK_THROWS_WITH_AS(run_ptq(c, log), doctest::Contains("C = -1"), Error);
  c.C = 1.16;
  c.method = "gptq";
  CHECK_THROWS_WITH_AS(run_ptq(c, log), doctest::Contains("expected rtn, gpfq, gpfq-soft or gpfq-hard"), Error);
  c.method = "gpfq";
  c.lambda = -0.5;
  CHECK_THROWS_WITH_AS(run_ptq(c, log), doctest::Contains("expected lambda >= 0"), Error);
  c.lambda = 0.0;
  c.out = "/dev/null";  // never renamed over: only regular files or new paths
  CHECK_THROWS_WITH_AS(run_ptq(c, log), doctest::Contains("is not a regular file"), Error);
  c.out = "/nonexistent/q.safetensors";
  CHECK_THROWS_WITH_AS(run_ptq(c, log), doctest::Contains("does not exist"), Error);
  c.out = "";
  c.weights = "/nonexistent/w.safetensors";
  CHECK_THROWS_WITH_AS(run_ptq(c, log), doctest::Contains("/nonexistent/w.safetensors"), Error);
#if !defined(__SANITIZE_ADDRESS__)
  c.weights = std::string(root) + "/pretrained/resnet20.safetensors";
  c.m = 60000;
  c.skip_fp = c.skip_rtn = true;
  CHECK_THROWS_WITH_AS(run_ptq(c, log), doctest::Contains("more than the 50000 training images"), Error);
#endif
}

TEST_CASE("qnn ptq: the ImageNet path runs end to end (random ResNet-18, sample JPEGs)") {
#if defined(__SANITIZE_ADDRESS__)
  MESSAGE("skipped under AddressSanitizer: ResNet-18 at 224x224 and -O1 is too slow; the Release run checks this");
  return;
#endif
  const char* root = qnn::testing::data_dir_or_skip();
  if (!root)
    return;
  const auto dir = temp_dir("imagenet");
  const std::string samples = std::string(root) + "/imagenet/class_samples_original";
  const std::string classes = std::string(root) + "/imagenet/imagenet_classes.tsv";
  make_imagenet_sample_folder(samples, classes, dir.string(), "train", 6);
  make_imagenet_sample_folder(samples, classes, dir.string(), "val", 4);
  PtqRunConfig c;
  c.model = "resnet18";
  c.dataset = std::string("imagenet");
  c.data_dir = dir.string();
  c.bits = NumberOrWord{"4"};
  c.m = 2;
  c.eval_batch = 4;
  c.bias_correct = true;
  c.out = (dir / "q.safetensors").string();
  std::ostringstream log;
  const PtqRunResult r = run_ptq(c, log);
  CHECK(r.quantized.count == 4);
  CHECK(r.ptq.layers.size() == 20);  // 21 layers, the last (fc) kept float by the dagger variant
  CHECK(r.ptq.float_layers == std::vector<std::string>{"fc"});
  CHECK(std::filesystem::exists(c.out));
  // With a run folder: quantized.safetensors, config.json, result.json and run.json in it, the
  // record naming every quantized tensor with its bits and levels; a second run there is refused.
  c.out = "";
  c.out_dir = (dir / "runs").string();
  c.skip_fp = c.skip_rtn = true;
  const PtqRunResult again = run_ptq(c, log);
  const std::filesystem::path run = c.run_dir();
  CHECK(run.filename() == "ptq-resnet18-gpfq-4-seed0");
  for (const char* file : {"quantized.safetensors", "config.json", "result.json", "run.json"})
    CHECK_MESSAGE(std::filesystem::exists(run / file), file);
  const nlohmann::json record = read_json_file((run / "run.json").string(), "test");
  REQUIRE(record.at("quantized").size() == again.ptq.quantized.size());
  CHECK(record.at("quantized").at(0).at("bits") == "4-bit");
  CHECK(record.at("quantized").at(0).at("num_levels") == 17);  // 2^4 + 1 midtread levels
  CHECK(record.at("normalization").at("name") == "imagenet");
  CHECK(record.at("config").at("C") == 1.16);
  CHECK_THROWS_WITH_AS(run_ptq(c, log), doctest::Contains("already holds a finished run"), Error);
  std::filesystem::remove_all(dir);
}
