// ImageNet ResNets (torchvision layout): parameter counts, every state_dict name and shape, and
// golden outputs against torchvision's own resnet18 / resnet50 (tests/tools/gen_resnet_imagenet.py)
// with closed-form weights; v1.5 strides, shortcut placement, forward shapes, initialization.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/ops.h"
#include "nn/nn.h"
#include "tests/check_close.h"
#include "tests/golden.h"
#include "tests/nn/module_gradcheck.h"

using namespace qnn;
using namespace qnn::nn;
using qnn::testing::check_close;
using qnn::testing::module_gradcheck;

namespace {

const nlohmann::json& golden() { return qnn::testing::golden_file("resnet_imagenet.json"); }

// gen_resnet_imagenet.py's hash_uniform(): a splitmix64-style mix of (i, k) to [-1, 1), exact in
// integers on both sides.
double hash_uniform(uint64_t i, uint64_t k) {
  uint64_t h = i * 0x9E3779B97F4A7C15ull + (k + 1) * 0xBF58476D1CE4E5B9ull;
  h ^= h >> 31;
  h *= 0x94D049BB133111EBull;
  h ^= h >> 29;
  return static_cast<double>(h >> 11) * 0x1.0p-52 - 1.0;
}

// gen_resnet_imagenet.py's formula(): entry k of the state_dict (num_batches_tracked excluded).
Tensor formula_value(const std::string& name, size_t k, const Shape& shape) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  const int64_t numel = numel_of(shape);
  const double c = shape.size() > 1 ? std::sqrt(3.0 / static_cast<double>(numel / shape[0])) : 0.0;
  std::vector<float> v(numel);
  for (int64_t i = 0; i < numel; ++i) {
    const double s = hash_uniform(static_cast<uint64_t>(i), k);
    double value;
    if (ends_with("running_var"))
      value = 1.0 + 0.5 * std::abs(s);
    else if (ends_with("running_mean") || ends_with("bias"))
      value = 0.1 * s;
    else if (shape.size() == 1)
      value = 1.0 + 0.2 * s;
    else
      value = s * c;
    v[i] = static_cast<float>(value);
  }
  return from_vector<float>(v, shape);
}

void load_formula(Module& model) {
  StateDict state;
  size_t k = 0;
  for (const auto& [name, t] : model.state_dict())
    state.emplace_back(name, formula_value(name, k++, t.shape()));
  model.load_state_dict(state);
}

// gen_resnet_imagenet.py's input: [2, 3, 40, 40].
Tensor golden_input() {
  std::vector<float> xv(2 * 3 * 40 * 40);
  for (size_t i = 0; i < xv.size(); ++i)
    xv[i] =
        static_cast<float>(std::sin(0.731 * static_cast<double>(i)) + 0.5 * std::cos(0.117 * static_cast<double>(i)));
  return from_vector<float>(xv, {2, 3, 40, 40});
}

// Sets a BatchNorm to eval-mode affine y = w x + b with w in [0.1, 0.3] and biases alternating
// +-bias by channel: with bias 5 and unit-scale inputs each following ReLU input stays many standard
// deviations from 0 (its channel fully active or fully dead), so finite differences never cross a
// kink. bias 0 leaves the channel centred (for a branch added to one that is far from 0).
void set_bn(BatchNorm2d& bn, float bias, Generator& gen) {
  const int64_t C = bn.num_features;
  std::vector<float> b(C);
  for (int64_t c = 0; c < C; ++c)
    b[c] = c % 2 == 0 ? bias : -bias;
  NoGradGuard no_grad;
  copy_(bn.weight, add(mul(rand({C}, gen), 0.2f), 0.1f));
  copy_(bn.bias, from_vector<float>(b, {C}));
}

std::shared_ptr<Sequential> projection(int64_t in, int64_t out, int64_t stride, Generator& gen) {
  auto ds = std::make_shared<Sequential>();
  ds->push_back(std::make_shared<Conv2d>(in, out, 1, Conv2dArgs{.stride = stride, .bias = false}, gen));
  ds->push_back(std::make_shared<BatchNorm2d>(out));
  return ds;
}

ModulePtr check_names_and_shapes(const std::string& name, int64_t count) {
  CAPTURE(name);
  const nlohmann::json& ref = golden()["models"][name];
  CHECK(ref["num_parameters"].get<int64_t>() == count);
  ModelOptions opt;
  opt.num_classes = 1000;
  auto model = make_model(name, opt);
  CHECK(model->num_parameters() == count);
  const StateDict sd = model->state_dict();
  REQUIRE(sd.size() == ref["state"].size());
  for (size_t i = 0; i < sd.size(); ++i) {
    CHECK(sd[i].first == ref["state"][i][0].get<std::string>());
    CHECK(sd[i].second.shape() == ref["state"][i][1].get<Shape>());
  }
  return model;
}

}  // namespace

TEST_SUITE("nn.resnet_imagenet") {
  TEST_CASE("resnet18: torchvision's 11,689,512 parameters, names, shapes and order") {
    // A few keys by hand too, as torchvision's state_dict lists them.
    const StateDict sd = check_names_and_shapes("resnet18", 11689512)->state_dict();
    REQUIRE(sd.size() == 102);
    CHECK(sd[0].first == "conv1.weight");
    CHECK(sd[0].second.shape() == Shape{64, 3, 7, 7});
    CHECK(sd[35].first == "layer2.0.downsample.0.weight");
    CHECK(sd[35].second.shape() == Shape{128, 64, 1, 1});
    CHECK(sd[36].first == "layer2.0.downsample.1.weight");
    CHECK(sd[100].first == "fc.weight");
    CHECK(sd[100].second.shape() == Shape{1000, 512});
  }

  TEST_CASE("resnet50: torchvision's 25,557,032 parameters, names, shapes and order") {
    auto r50 = std::dynamic_pointer_cast<ResNet>(check_names_and_shapes("resnet50", 25557032));
    REQUIRE(r50);
    // v1.5: the stride sits on each stage's first 3x3 and on its projection shortcut.
    for (const auto& layer : {r50->layer2, r50->layer3, r50->layer4}) {
      auto first = layer->at<Bottleneck>(0);
      CHECK(first->conv1->args.stride == 1);
      CHECK(first->conv2->args.stride == 2);
      REQUIRE(first->downsample);
      CHECK(first->downsample->at<Conv2d>(0)->args.stride == 2);
      CHECK_FALSE(layer->at<Bottleneck>(1)->downsample);
    }
    // layer1 keeps stride 1 but widens 64 -> 256: a projection shortcut at stride 1.
    auto l1 = r50->layer1->at<Bottleneck>(0);
    REQUIRE(l1->downsample);
    CHECK(l1->downsample->at<Conv2d>(0)->args.stride == 1);
  }

  TEST_CASE("resnet18 matches torchvision: eval and train logits, running stats, head gradients") {
    auto model = std::dynamic_pointer_cast<ResNet>(make_model("resnet18"));
    REQUIRE(model);
    load_formula(*model);
    const nlohmann::json& g = golden()["resnet18"];
    const Tensor x = golden_input();
    CHECK_FALSE(model->layer1->at<BasicBlock>(0)->downsample);
    CHECK(model->layer2->at<BasicBlock>(0)->conv1->args.stride == 2);
    CHECK(model->maxpool->kernel_size == 3);
    CHECK(model->maxpool->stride == 2);
    CHECK(model->maxpool->padding == 1);
    model->eval();
    check_close(model->forward(x), g["eval_logits"], 1e-4);
    model->train();
    const Tensor y = model->forward(x);
    check_close(y, g["train_logits"], 1e-4);
    auto block = model->layer2->at<BasicBlock>(0);
    REQUIRE(block->downsample);
    check_close(block->downsample->at<BatchNorm2d>(1)->running_mean, g["layer2_0_downsample_1_running_mean"], 1e-5);
    std::vector<float> rv(20);
    for (size_t j = 0; j < rv.size(); ++j)
      rv[j] = static_cast<float>(std::cos(0.9 * static_cast<double>(j)));
    sum(mul(y, from_vector<float>(rv, {2, 10}))).backward();
    // Only the head's gradients (see gen_resnet_imagenet.py); the blocks' are gradchecked below.
    check_close(model->fc->weight.grad(), g["grad_fc_weight"], 1e-4);
    check_close(model->fc->bias.grad(), g["grad_fc_bias"], 1e-4);
  }

  TEST_CASE("resnet50 (Bottleneck, stride on the 3x3) matches torchvision's eval logits") {
    auto model = make_model("resnet50");
    load_formula(*model);
    model->eval();
    NoGradGuard no_grad;
    check_close(model->forward(golden_input()), golden()["resnet50"]["eval_logits"], 1e-4);
  }

  TEST_CASE("BasicBlock and Bottleneck gradients, with and without a projection shortcut") {
    // Eval mode keeps BN affine; set_bn keeps every ReLU input away from its kink, so the blocks
    // are smooth in every input and parameter where the differences are taken.
    Generator gen(303);
    {
      BasicBlock block(2, 4, 2, projection(2, 4, 2, gen), gen);
      set_bn(*block.bn1, 5.0f, gen);
      set_bn(*block.bn2, 5.0f, gen);
      set_bn(*block.downsample->at<BatchNorm2d>(1), 0.0f, gen);
      block.eval();
      CHECK(module_gradcheck(block, mul(randn({2, 2, 5, 5}, gen), 0.5f)));
    }
    {
      BasicBlock block(3, 3, 1, nullptr, gen);
      set_bn(*block.bn1, 5.0f, gen);
      set_bn(*block.bn2, 5.0f, gen);
      block.eval();
      CHECK(module_gradcheck(block, mul(randn({1, 3, 4, 4}, gen), 0.5f)));
    }
    {
      // 4 -> 2 -> 2 -> 8 channels, stride 2 on the 3x3.
      Bottleneck block(4, 2, 2, projection(4, 8, 2, gen), gen);
      for (const auto& bn : {block.bn1, block.bn2, block.bn3})
        set_bn(*bn, 5.0f, gen);
      set_bn(*block.downsample->at<BatchNorm2d>(1), 0.0f, gen);
      block.eval();
      CHECK(module_gradcheck(block, mul(randn({2, 4, 5, 5}, gen), 0.5f)));
    }
    {
      Bottleneck block(8, 2, 1, nullptr, gen);
      for (const auto& bn : {block.bn1, block.bn2, block.bn3})
        set_bn(*bn, 5.0f, gen);
      block.eval();
      CHECK(module_gradcheck(block, mul(randn({1, 8, 3, 3}, gen), 0.5f)));
    }
  }

  TEST_CASE("resnet18 gives [N, classes] logits at 64x64; backward reaches every parameter") {
    Generator gen(301);
    ModelOptions opt;
    opt.gen = &gen;
    opt.num_classes = 7;
    auto model = make_model("resnet18", opt);
    const Tensor y = model->forward(randn({2, 3, 64, 64}, gen));
    CHECK(y.shape() == Shape{2, 7});
    sum(y).backward();
    for (const auto& [name, p] : model->named_parameters()) {
      CAPTURE(name);
      REQUIRE(p.grad().defined());
      CHECK(p.grad().shape() == p.shape());
    }
    CHECK_THROWS_AS(model->forward(randn({1, 1, 64, 64}, gen)), Error);
  }

  TEST_CASE("initialization: kaiming_normal(fan_out) convs, unit BN, seeded") {
    Generator g1(302), g2(302);
    ModelOptions o1, o2;
    o1.gen = &g1;
    o2.gen = &g2;
    auto a = std::dynamic_pointer_cast<ResNet>(make_model("resnet18", o1));
    auto b = make_model("resnet18", o2);
    REQUIRE(a);
    const StateDict sa = a->state_dict(), sb = b->state_dict();
    for (size_t i = 0; i < sa.size(); ++i)
      CHECK(sa[i].second.to_vector<float>() == sb[i].second.to_vector<float>());
    // layer3.0.conv2: [256, 256, 3, 3], fan_out 256 * 9, std sqrt(2 / 2304) (589,824 draws: 1%).
    const std::vector<float> w = a->layer3->at<BasicBlock>(0)->conv2->weight.to_vector<float>();
    double s2 = 0;
    for (float v : w)
      s2 += static_cast<double>(v) * v;
    CHECK(std::sqrt(s2 / static_cast<double>(w.size())) == doctest::Approx(std::sqrt(2.0 / 2304.0)).epsilon(0.01));
    // conv1: fan_out 64 * 49.
    const std::vector<float> w1 = a->conv1->weight.to_vector<float>();
    s2 = 0;
    for (float v : w1)
      s2 += static_cast<double>(v) * v;
    CHECK(std::sqrt(s2 / static_cast<double>(w1.size())) == doctest::Approx(std::sqrt(2.0 / 3136.0)).epsilon(0.03));
    CHECK(a->bn1->weight.to_vector<float>() == std::vector<float>(64, 1.0f));
    // fc keeps nn::Linear's default: |b| <= 1 / sqrt(512).
    for (float v : a->fc->bias.to_vector<float>())
      CHECK(std::abs(v) <= 1.0f / std::sqrt(512.0f));
  }

  TEST_CASE("registry: resnet18 / resnet50 have no dropout; bad stage lists throw") {
    ModelOptions drop;
    drop.drop_path_rate = 0.1f;
    CHECK_THROWS_AS(make_model("resnet18", drop), Error);
    CHECK_THROWS_AS(ResNet(ResNetBlock::Basic, {2, 2, 2}), Error);
    CHECK_THROWS_AS(ResNet(ResNetBlock::Basic, {2, 0, 2, 2}), Error);
  }
}
