// The ImageNet path end to end on the sample images of shared/data/imagenet (skipped with a
// reason when QNN_DATA_DIR is unset): the samples laid out as DIR/val/<wnid>/ get the standard
// class indices of labels.txt, missing splits are errors naming them, and a randomly initialised
// ResNet-18 evaluates on them, both through evaluate() and through `qnn eval --dataset imagenet`.
// No ImageNet weights exist here, so the accuracy is not checked, only that the path runs.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "apps/commands.h"
#include "core/generator.h"
#include "datasets/image_folder.h"
#include "datasets/presets.h"
#include "engine/evaluate.h"
#include "engine/weights.h"
#include "nn/models/registry.h"
#include "tests/data_dir.h"
#include "tests/temp_dir.h"

using namespace qnn;
using namespace qnn::apps;
using namespace qnn::engine;
using namespace qnn::data;
namespace fs = std::filesystem;
using qnn::testing::TempDir;

namespace {

// file -> class index, from class_samples_original/labels.txt ("file class_index wnid sha256").
std::map<std::string, int64_t> sample_labels(const std::string& dir) {
  std::ifstream in(dir + "/labels.txt");
  REQUIRE(in.good());
  std::map<std::string, int64_t> labels;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream fields(line);
    std::string file;
    int64_t index = -1;
    fields >> file >> index;
    labels[file] = index;
  }
  return labels;
}

}  // namespace

TEST_CASE("imagenet: the 100 samples as val/<wnid>/ get labels.txt's class indices; missing splits are named") {
  const char* root = qnn::testing::data_dir_or_skip();
  if (!root)
    return;
  const std::string samples = std::string(root) + "/imagenet/class_samples_original";
  TempDir tmp("imagenet", "layout");
  const int64_t n =
      make_imagenet_sample_folder(samples, std::string(root) + "/imagenet/imagenet_classes.tsv", tmp.path.string());
  REQUIRE(n == 100);
  const ClassificationData data =
      load_classification_data("imagenet", tmp.path.string(), named_normalization("imagenet"), /*load_train=*/false);
  CHECK(data.num_classes == 1000);
  CHECK(data.train == nullptr);
  const auto& val = dynamic_cast<const qnn::data::ImageFolder&>(*data.test);
  REQUIRE(val.size() == 100);
  CHECK(val.num_classes() == 1000);
  const std::map<std::string, int64_t> want = sample_labels(samples);
  for (int64_t i = 0; i < val.size(); ++i) {
    const std::string file = fs::path(val.path(i)).filename().string();
    CAPTURE(file);
    REQUIRE(want.count(file) == 1);
    CHECK(val.label(i) == want.at(file));
  }
  CHECK(val.label(0) == 0);  // n01440764 (tench) is class 0; the samples are classes 0, 10, ..., 990
  CHECK(val.label(99) == 990);

  // Only the splits asked for must exist: no train/ here.
  CHECK_THROWS_WITH_AS(load_classification_data("imagenet", tmp.path.string(), named_normalization("imagenet"),
                                                /*load_train=*/true),
                       doctest::Contains(((tmp.path / "train").string() + ": no such folder").c_str()), Error);
  CHECK_THROWS_WITH_AS(load_classification_data("imagenet", (tmp.path / "val").string(),
                                                named_normalization("imagenet"), /*load_train=*/false),
                       doctest::Contains(((tmp.path / "val" / "val").string() + ": no such folder").c_str()), Error);
  // Without the class list, 10 of 1000 class folders cannot be numbered.
  TempDir partial("imagenet", "partial");
  make_imagenet_sample_folder(samples, std::string(root) + "/imagenet/imagenet_classes.tsv", partial.path.string(),
                              "val", 10);
  fs::remove(partial.path / "imagenet_classes.tsv");
  CHECK_THROWS_WITH_AS(load_classification_data("imagenet", partial.path.string(), named_normalization("imagenet"),
                                                /*load_train=*/false),
                       doctest::Contains("got 10 class folders and no class list"), Error);
  CHECK_THROWS_WITH_AS(resolve_data_dir("imagenet", ""), doctest::Contains("no --data folder given for imagenet"),
                       Error);
}

TEST_CASE("imagenet: a random ResNet-18 evaluates 13 samples (the grayscale one included) end to end") {
  const char* root = qnn::testing::data_dir_or_skip();
  if (!root)
    return;
  const std::string samples = std::string(root) + "/imagenet/class_samples_original";
  TempDir tmp("imagenet", "eval");
  make_imagenet_sample_folder(samples, std::string(root) + "/imagenet/imagenet_classes.tsv", tmp.path.string());
  const ClassificationData data =
      load_classification_data("imagenet", tmp.path.string(), named_normalization("imagenet"), /*load_train=*/false);
  const auto& val = dynamic_cast<const qnn::data::ImageFolder&>(*data.test);
  // Every 9th sample (12 of them), plus the grayscale pencil sharpener (n03908714, class 710).
  std::vector<int64_t> pick;
  for (int64_t i = 0; i < val.size(); i += 9)
    pick.push_back(i);
  for (int64_t i = 0; i < val.size(); ++i)
    if (val.path(i).find("n03908714_pencil_sharpener") != std::string::npos)
      pick.push_back(i);
  REQUIRE(pick.size() == 13);
  const auto subset = std::make_shared<qnn::data::Subset>(data.test, pick);
  const qnn::data::Example gray = subset->get(12);
  CHECK(gray.label == 710);
  CHECK(gray.image.shape() == Shape{3, 224, 224});

  Generator init(0);
  nn::ModelOptions model_options;
  model_options.num_classes = 1000;
  model_options.gen = &init;
  auto model = nn::make_model("resnet18", model_options);  // the torchvision layout and names
  EvalOptions options;
  options.batch_size = 4;
  const EvalResult r = evaluate(*model, subset, options);
  MESSAGE("random resnet18 on " << r.count << " samples: top-1 " << r.top1 << "%, top-5 " << r.top5 << "%, loss "
                                << r.loss << ", " << r.count / r.seconds << " img/s (decode + transforms + forward)");
  CHECK(r.count == 13);
  CHECK(std::isfinite(r.loss));
  CHECK(r.loss > 0.0);

  // The same through the command: weights written with ImageNet normalization metadata, as
  // tools/convert_torchvision_weights.py writes them.
  TempDir eight("imagenet", "cli");
  make_imagenet_sample_folder(samples, std::string(root) + "/imagenet/imagenet_classes.tsv", eight.path.string(), "val",
                              8);
  std::map<std::string, std::string> meta;
  normalization_to_metadata(named_normalization("imagenet"), meta);
  save_weights(*model, (eight.path / "resnet18.safetensors").string(), meta);
  CLI::App app;
  add_eval_command(app);
  const std::vector<std::string> args = {
      "eval",      "--model",  "resnet18", "--weights",         (eight.path / "resnet18.safetensors").string(),
      "--dataset", "imagenet", "--data",   eight.path.string(), "--batch",
      "4",         "--json"};
  std::vector<const char*> argv = {"qnn"};
  for (const std::string& a : args)
    argv.push_back(a.c_str());
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  const std::string out = captured.str();
  const nlohmann::json j = nlohmann::json::parse(out.substr(out.find('{')));
  CHECK(j.at("images") == 8);
  CHECK(j.at("dataset") == "imagenet");
  CHECK(std::isfinite(j.at("loss").get<double>()));
}
