// Parity with PyTorch on real data (skipped with a reason when QNN_DATA_DIR is unset): the
// pretrained CIFAR ResNets evaluate to the accuracy PyTorch measured on the full CIFAR-10 test set
// (shared/data/pretrained/eval_results_full_test.json), and ResNet-20's logits for test images
// 0..15 equal PyTorch's (resnet20_first16_test_logits.safetensors) within 1e-4.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/autograd.h"
#include "core/creation.h"
#include "core/io/safetensors.h"
#include "datasets/presets.h"
#include "engine/evaluate.h"
#include "engine/weights.h"
#include "nn/models/registry.h"
#include "tests/data_dir.h"

using namespace qnn;
using namespace qnn::engine;
using namespace qnn::data;

TEST_CASE("count_correct: top-1 and top-5 by hand; NaN is never correct") {
  // Row 0: label 2 is the best (top-1). Row 1: label 0 ranks 3rd (top-5, not top-1).
  // Row 2: label 1 is NaN.
  const Tensor logits = from_vector<float>({0, 1, 5, 2, 3, 4, 1, 2, 3, 4, 5, 6, 0, NAN, 1, 2, 3, 4}, {3, 6});
  const Tensor labels = from_vector<int64_t>({2, 3, 1}, {3});
  int64_t top1 = 0, top5 = 0;
  count_correct(logits, labels, top1, top5);
  CHECK(top1 == 1);
  CHECK(top5 == 2);
  CHECK_THROWS_WITH_AS(count_correct(logits, from_vector<int64_t>({0, 6, 0}, {3}), top1, top5),
                       doctest::Contains("got label 6 (expected 0..5)"), Error);
}

TEST_CASE("ResNet-20 logits for test images 0..15 match PyTorch within 1e-4") {
  const char* root = qnn::testing::data_dir_or_skip();
  if (!root)
    return;
  const std::string pretrained = std::string(root) + "/pretrained/";
  auto model = nn::make_model("resnet20");
  const auto meta = load_weights(*model, pretrained + "resnet20.safetensors");
  model->eval();
  const SafetensorsFile fixture = load_safetensors(pretrained + "resnet20_first16_test_logits.safetensors");

  // Our data pipeline gives exactly the fixture's input...
  Normalization norm;
  REQUIRE(normalization_from_metadata(meta, norm));
  const ClassificationData data =
      load_classification_data("cifar10", std::string(root) + "/cifar-10-batches-bin", norm, /*load_train=*/false);
  const std::vector<float> want_input = fixture.at("input_normalized").to_vector<float>();
  for (int64_t i = 0; i < 16; ++i) {
    const std::vector<float> got = data.test->get(i).image.to_vector<float>();
    for (size_t k = 0; k < got.size(); ++k)
      REQUIRE(std::abs(got[k] - want_input[i * 3072 + k]) <= 1e-6f);
  }
  // ...and the model gives the fixture's logits.
  NoGradGuard no_grad;
  const std::vector<float> got = (*model)(fixture.at("input_normalized")).to_vector<float>();
  const std::vector<float> want = fixture.at("logits").to_vector<float>();
  REQUIRE(got.size() == want.size());
  double worst = 0.0;
  for (size_t k = 0; k < got.size(); ++k)
    worst = std::max(worst, static_cast<double>(std::abs(got[k] - want[k])));
  MESSAGE("largest |logit - torch logit| = " << worst);
  CHECK(worst <= 1e-4);
}

TEST_CASE("pretrained CIFAR ResNets reach PyTorch's accuracy on the full test set") {
#if defined(__SANITIZE_ADDRESS__)
  MESSAGE("skipped under AddressSanitizer: 40,000 images at -O1 take too long; the Release run checks this");
  return;
#endif
  const char* root = qnn::testing::data_dir_or_skip();
  if (!root)
    return;
  const std::string pretrained = std::string(root) + "/pretrained/";
  std::ifstream in(pretrained + "eval_results_full_test.json");
  REQUIRE(in.good());
  const nlohmann::json reference = nlohmann::json::parse(in).at("models");
  const ClassificationData data = load_classification_data("cifar10", std::string(root) + "/cifar-10-batches-bin",
                                                           named_normalization("imagenet"), /*load_train=*/false);
  for (const std::string name : {"resnet20", "resnet32", "resnet44", "resnet56"}) {
    CAPTURE(name);
    auto model = nn::make_model(name);
    load_weights(*model, pretrained + name + ".safetensors");
    const EvalResult r = evaluate(*model, data.test);
    const double want_top1 = 100.0 * reference.at(name).at("top1").get<double>();
    const double want_loss = reference.at(name).at("mean_ce_loss").get<double>();
    MESSAGE(name << ": top-1 " << r.top1 << "% (torch " << want_top1 << "%), loss " << r.loss << " (torch " << want_loss
                 << "), " << r.count / r.seconds << " img/s");
    CHECK(r.count == 10000);
    CHECK(std::abs(r.top1 - want_top1) <= 0.05);
    CHECK(std::abs(r.loss - want_loss) <= 1e-4);
  }
}
