// CIFAR ResNets: names, shapes and parameter counts of akamaster's checkpoints, the option-A
// shortcut by hand, forward/backward shapes, train/eval BatchNorm behaviour, a block's gradients,
// and the model registry. With QNN_DATA_DIR set, the full name/shape lists of
// $QNN_DATA_DIR/pretrained/SOURCE.md are compared too.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/ops.h"
#include "nn/nn.h"
#include "tests/check_close.h"
#include "tests/error_of.h"
#include "tests/golden.h"
#include "tests/nn/module_gradcheck.h"

using qnn::testing::error_of;
using namespace qnn;
using namespace qnn::nn;
using qnn::testing::check_close;
using qnn::testing::module_gradcheck;

namespace {

const nlohmann::json& golden() { return qnn::testing::golden_file("nn.json"); }

// The closed-form weights of tests/tools/gen_nn.py's formula(): entry k of the state_dict.
Tensor formula_value(const std::string& name, size_t k, const Shape& shape) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::vector<float> v(numel_of(shape));
  for (size_t i = 0; i < v.size(); ++i) {
    const double s = std::sin(0.37 * static_cast<double>(i) + 1.1 * static_cast<double>(k) + 0.5);
    double value;
    if (ends_with("running_var"))
      value = 1.0 + 0.5 * std::abs(s);
    else if (ends_with("running_mean") || ends_with("bias"))
      value = 0.1 * s;
    else if (shape.size() == 1)
      value = 1.0 + 0.2 * s;
    else
      value = s / std::sqrt(static_cast<double>(numel_of(shape) / shape[0]));
    v[i] = static_cast<float>(value);
  }
  return from_vector<float>(v, shape);
}

}  // namespace

TEST_SUITE("nn.resnet_cifar") {
  TEST_CASE("resnet20 has akamaster's names, shapes and order") {
    auto model = make_model("resnet20");
    const StateDict sd = model->state_dict();
    REQUIRE(sd.size() == 97);
    struct Expected {
      size_t index;
      const char* name;
      Shape shape;
    };
    for (const Expected& e : {
             Expected{0, "conv1.weight", {16, 3, 3, 3}},
             Expected{1, "bn1.weight", {16}},
             Expected{2, "bn1.bias", {16}},
             Expected{3, "bn1.running_mean", {16}},
             Expected{4, "bn1.running_var", {16}},
             Expected{5, "layer1.0.conv1.weight", {16, 16, 3, 3}},
             Expected{10, "layer1.0.conv2.weight", {16, 16, 3, 3}},
             Expected{14, "layer1.0.bn2.running_var", {16}},
             Expected{35, "layer2.0.conv1.weight", {32, 16, 3, 3}},
             Expected{40, "layer2.0.conv2.weight", {32, 32, 3, 3}},
             Expected{65, "layer3.0.conv1.weight", {64, 32, 3, 3}},
             Expected{94, "layer3.2.bn2.running_var", {64}},
             Expected{95, "linear.weight", {10, 64}},
             Expected{96, "linear.bias", {10}},
         }) {
      CAPTURE(e.index);
      CHECK(sd[e.index].first == e.name);
      CHECK(sd[e.index].second.shape() == e.shape);
    }
  }

  TEST_CASE("resnet20 matches PyTorch: eval and train logits, running stats, gradients") {
    // tests/tools/gen_nn.py: the same closed-form weights and input through a PyTorch ResNet-20.
    auto model = std::dynamic_pointer_cast<ResNetCifar>(make_model("resnet20"));
    REQUIRE(model);
    StateDict state;
    size_t k = 0;
    const std::vector<std::string> names = golden()["names"].get<std::vector<std::string>>();
    for (const auto& [name, t] : model->state_dict()) {
      REQUIRE(names[k] == name);
      state.emplace_back(name, formula_value(name, k++, t.shape()));
    }
    model->load_state_dict(state);
    std::vector<float> xv(2 * 3 * 32 * 32), rv(20);
    for (size_t i = 0; i < xv.size(); ++i)
      xv[i] =
          static_cast<float>(std::sin(0.731 * static_cast<double>(i)) + 0.5 * std::cos(0.117 * static_cast<double>(i)));
    for (size_t j = 0; j < rv.size(); ++j)
      rv[j] = static_cast<float>(std::cos(0.9 * static_cast<double>(j)));
    const Tensor x = from_vector<float>(xv, {2, 3, 32, 32}), r = from_vector<float>(rv, {2, 10});

    model->eval();
    check_close(model->forward(x), golden()["eval_logits"], 1e-4);
    model->train();
    const Tensor y = model->forward(x);
    check_close(y, golden()["train_logits"], 1e-4);
    check_close(model->bn1->running_mean, golden()["bn1_running_mean"], 1e-5);
    check_close(model->bn1->running_var, golden()["bn1_running_var"], 1e-5);
    check_close(model->layer3->at<BasicBlockCifar>(2)->bn2->running_var, golden()["layer3_2_bn2_running_var"], 1e-5);
    sum(mul(y, r)).backward();
    check_close(model->conv1->weight.grad(), golden()["grad_conv1_weight"], 1e-3);
    check_close(model->layer2->at<BasicBlockCifar>(0)->conv1->weight.grad(), golden()["grad_layer2_0_conv1_weight"],
                1e-3);
    check_close(model->linear->weight.grad(), golden()["grad_linear_weight"], 1e-4);
    check_close(model->linear->bias.grad(), golden()["grad_linear_bias"], 1e-4);
  }

  TEST_CASE("trainable parameter counts match the pretrained models") {
    CHECK(make_model("resnet20")->num_parameters() == 269722);
    CHECK(make_model("resnet32")->num_parameters() == 464154);
    CHECK(make_model("resnet44")->num_parameters() == 658586);
    CHECK(make_model("resnet56")->num_parameters() == 853018);
    auto r110 = make_model("resnet110");
    CHECK(r110->state_dict().size() == 5 + 54 * 10 + 2);
    // Running statistics are buffers, not parameters.
    CHECK(make_model("resnet20")->num_parameters(false) == 269722);
  }

  TEST_CASE("option-A shortcut: x[:, :, ::2, ::2] with planes/4 zero channels on each side") {
    ShortcutA sc(1);
    std::vector<float> v(2 * 5 * 5);
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<float>(i);
    const Tensor y = sc.forward(from_vector<float>(v, {1, 2, 5, 5}));
    REQUIRE(y.shape() == Shape{1, 4, 3, 3});
    const std::vector<float> yv = y.to_vector<float>();
    for (int c = 0; c < 4; ++c)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
          const float want = (c == 0 || c == 3) ? 0.0f : v[((c - 1) * 5 + 2 * i) * 5 + 2 * j];
          CHECK(yv[(c * 3 + i) * 3 + j] == want);
        }
    // The first block of layer2 uses it; the other blocks have an identity shortcut.
    auto model = std::make_shared<ResNetCifar>(20);
    CHECK(model->layer2->at<BasicBlockCifar>(0)->shortcut->type_name() == "ShortcutA");
    CHECK(std::dynamic_pointer_cast<ShortcutA>(model->layer3->at<BasicBlockCifar>(0)->shortcut)->pad_channels == 16);
    CHECK(model->layer2->at<BasicBlockCifar>(1)->shortcut->type_name() == "Identity");
    CHECK(model->layer1->at<BasicBlockCifar>(0)->shortcut->type_name() == "Identity");
  }

  TEST_CASE("forward gives [N, 10] logits; backward reaches every parameter") {
    Generator gen(31);
    ModelOptions opt;
    opt.gen = &gen;
    auto model = make_model("resnet20", opt);
    const Tensor x = randn({2, 3, 32, 32}, gen);
    const Tensor y = model->forward(x);
    CHECK(y.shape() == Shape{2, 10});
    sum(y).backward();
    for (const auto& [name, p] : model->named_parameters()) {
      CAPTURE(name);
      REQUIRE(p.grad().defined());
      CHECK(p.grad().shape() == p.shape());
    }
    opt.num_classes = 100;
    CHECK(make_model("resnet20", opt)->forward(randn({1, 3, 32, 32}, gen)).shape() == Shape{1, 100});
  }

  TEST_CASE("training updates BN running stats and depends on the batch; eval does neither") {
    Generator gen(32);
    ModelOptions opt;
    opt.gen = &gen;
    auto model = std::dynamic_pointer_cast<ResNetCifar>(make_model("resnet20", opt));
    REQUIRE(model);
    const Tensor x = randn({4, 3, 32, 32}, gen);
    const std::vector<float> rm0 = model->bn1->running_mean.to_vector<float>();
    const Tensor y_train = model->forward(x);
    CHECK(model->bn1->running_mean.to_vector<float>() != rm0);
    // In training mode a sample's logits depend on the rest of the batch.
    CHECK(model->forward(x.narrow(0, 0, 2)).narrow(0, 0, 1).to_vector<float>() !=
          y_train.narrow(0, 0, 1).to_vector<float>());

    model->eval();
    const StateDict before = model->state_dict();
    std::vector<std::vector<float>> saved;
    for (const auto& [k, t] : before)
      saved.push_back(t.to_vector<float>());
    const std::vector<float> y_eval = model->forward(x).to_vector<float>();
    for (size_t i = 0; i < before.size(); ++i) {
      CAPTURE(before[i].first);
      CHECK(before[i].second.to_vector<float>() == saved[i]);
    }
    // Eval mode: per-sample, deterministic, independent of the batch.
    const std::vector<float> y_first = model->forward(x.narrow(0, 0, 1)).to_vector<float>();
    for (size_t i = 0; i < 10; ++i)
      CHECK(y_first[i] == doctest::Approx(y_eval[i]).epsilon(1e-5));
    CHECK(model->forward(x).to_vector<float>() == y_eval);
  }

  TEST_CASE("a seed fixes the initial model; kaiming_normal_ spreads conv weights") {
    Generator g1(7), g2(7);
    ModelOptions o1, o2;
    o1.gen = &g1;
    o2.gen = &g2;
    const StateDict a = make_model("resnet20", o1)->state_dict(), b = make_model("resnet20", o2)->state_dict();
    for (size_t i = 0; i < a.size(); ++i)
      CHECK(a[i].second.to_vector<float>() == b[i].second.to_vector<float>());
    // layer3.0.conv2.weight: fan_in 576, std sqrt(2/576) (36864 draws: within 2%).
    const std::vector<float> w = a[70].second.to_vector<float>();
    REQUIRE(a[70].first == "layer3.0.conv2.weight");
    double s2 = 0;
    for (float v : w)
      s2 += static_cast<double>(v) * v;
    CHECK(std::sqrt(s2 / static_cast<double>(w.size())) == doctest::Approx(std::sqrt(2.0 / 576.0)).epsilon(0.02));
  }

  TEST_CASE("BasicBlock wiring equals the functional composition, outputs and gradients") {
    // Training mode: conv -> BN (batch statistics) -> relu -> conv -> BN, + option-A shortcut, relu.
    Generator gen(33);
    BasicBlockCifar block(2, 4, 2, gen);
    for (const auto& bn : {block.bn1, block.bn2}) {
      NoGradGuard no_grad;
      copy_(bn->weight, add(randn({4}, gen), 1.0f));
      copy_(bn->bias, randn({4}, gen));
    }
    const Tensor x = randn({3, 2, 6, 6}, gen);
    const Tensor r = randn({3, 4, 3, 3}, gen);
    sum(mul(block.forward(x), r)).backward();

    std::vector<Tensor> p;
    for (const auto& [name, t] : block.named_parameters())
      p.push_back(qnn::testing::leaf(t));  // conv1.w, bn1.w, bn1.b, conv2.w, bn2.w, bn2.b
    REQUIRE(p.size() == 6);
    Conv2dOptions s2;
    s2.stride = {2, 2};
    s2.padding = {1, 1};
    Conv2dOptions s1;
    s1.padding = {1, 1};
    Tensor h = relu(batch_norm(conv2d(x, p[0], Tensor(), s2), Tensor(), Tensor(), p[1], p[2], true));
    h = batch_norm(conv2d(h, p[3], Tensor(), s1), Tensor(), Tensor(), p[4], p[5], true);
    const Tensor shortcut = pad(x.slice(2, 0, 6, 2).slice(3, 0, 6, 2), {0, 0, 0, 0, 1, 1});
    const Tensor y = relu(add(h, shortcut));
    CHECK(y.to_vector<float>() == block.forward(x).to_vector<float>());
    sum(mul(y, r)).backward();
    size_t k = 0;
    for (const auto& [name, t] : block.named_parameters()) {
      CAPTURE(name);
      CHECK(t.grad().to_vector<float>() == p[k++].grad().to_vector<float>());
    }
  }

  TEST_CASE("BasicBlock gradients in eval mode, with and without the option-A shortcut") {
    // The wiring in training mode is checked exactly above; here finite differences check the
    // gradients of input and parameters end to end. They must not cross a ReLU kink: BN biases of
    // +-5 against pre-activations of std < 1 (BN weights 0.3-0.5 and 0.1 over unit running
    // variance, inputs of std 0.5) keep every ReLU input many standard deviations from 0, so each
    // channel is fully active or fully dead. Eval mode keeps BN affine, so the block is linear
    // in each parameter away from kinks and the differences are exact up to rounding.
    Generator gen(34);
    for (const auto& [in, planes, stride] : {std::tuple<int64_t, int64_t, int64_t>{2, 4, 2}, {2, 2, 1}}) {
      CAPTURE(stride);
      BasicBlockCifar block(in, planes, stride, gen);
      std::vector<float> b(planes);
      for (int64_t c = 0; c < planes; ++c)
        b[c] = c % 2 == 0 ? 5.0f : -5.0f;
      {
        NoGradGuard no_grad;
        copy_(block.bn1->weight, add(mul(rand({planes}, gen), 0.2f), 0.3f));
        copy_(block.bn2->weight, full({planes}, 0.1f));
        copy_(block.bn1->bias, from_vector<float>(b, {planes}));
        copy_(block.bn2->bias, from_vector<float>(b, {planes}));
      }
      block.eval();
      CHECK(module_gradcheck(block, mul(randn({2, in, 4, 4}, gen), 0.5f)));
    }
  }

  TEST_CASE("registry: known names, clear errors, one-line additions") {
    const std::vector<std::string> names = model_names();
    for (const char* n : {"resnet20", "resnet32", "resnet44", "resnet56", "resnet110"})
      CHECK(std::find(names.begin(), names.end(), n) != names.end());
    const std::string msg = error_of([] { make_model("resnet21"); });
    CHECK(msg.find("make_model: got unknown model 'resnet21' (expected one of: resnet20, resnet32, resnet44, "
                   "resnet56, resnet110") == 0);
    ModelOptions drop;
    drop.drop_rate = 0.1f;
    CHECK(error_of([&] { make_model("resnet20", drop); }).find("has no dropout") != std::string::npos);
    CHECK_THROWS_AS(ResNetCifar(21), Error);
    register_model({"tiny_resnet8", "test model", [](const ModelOptions& o) -> std::shared_ptr<Module> {
                      return std::make_shared<ResNetCifar>(8, o.num_classes, o.generator());
                    }});
    CHECK(make_model("tiny_resnet8")->state_dict().size() == 5 + 3 * 10 + 2);
    CHECK_THROWS_AS(register_model({"resnet20", "again", [](const ModelOptions&) { return ModulePtr(); }}), Error);
  }

  TEST_CASE("every tensor name and shape listed in $QNN_DATA_DIR/pretrained/SOURCE.md") {
    const char* dir = std::getenv("QNN_DATA_DIR");
    if (!dir) {
      MESSAGE("skipped: QNN_DATA_DIR is not set");
      return;
    }
    std::ifstream in(std::string(dir) + "/pretrained/SOURCE.md");
    REQUIRE_MESSAGE(in.good(), "cannot read " << dir << "/pretrained/SOURCE.md");
    // Sections "### resnetNN (K tensors)" followed by lines "name [d0, d1, ...] float32".
    const std::regex header(R"(^### (resnet\d+) \((\d+) tensors\))"), entry(R"(^(\S+) \[([\d, ]*)\] float32$)");
    std::map<std::string, std::vector<std::pair<std::string, Shape>>> lists;
    std::map<std::string, size_t> declared;
    std::string line, current;
    std::smatch m;
    while (std::getline(in, line)) {
      if (std::regex_search(line, m, header)) {
        current = m[1];
        declared[current] = std::stoul(m[2]);
      } else if (line.rfind("## ", 0) == 0) {
        current.clear();
      } else if (!current.empty() && std::regex_match(line, m, entry)) {
        Shape shape;
        std::istringstream dims(m[2].str());
        std::string d;
        while (std::getline(dims, d, ','))
          shape.push_back(std::stoll(d));
        lists[current].emplace_back(m[1], shape);
      }
    }
    REQUIRE(lists.size() >= 4);
    for (const auto& [name, list] : lists) {
      CAPTURE(name);
      CHECK(list.size() == declared[name]);
      const StateDict sd = make_model(name)->state_dict();
      REQUIRE(sd.size() == list.size());
      for (size_t i = 0; i < sd.size(); ++i) {
        CAPTURE(i);
        CHECK(sd[i].first == list[i].first);
        CHECK(sd[i].second.shape() == list[i].second);
      }
    }
  }
}
