// Layers without convolution: Linear, BatchNorm1d/2d, LayerNorm, ReLU, GELU, Dropout, Flatten,
// Identity, Sequential. Forward against hand-computed values, gradients of input and every
// parameter with gradcheck through the module (module_gradcheck.h).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/ops.h"
#include "nn/nn.h"
#include "tests/check_close.h"
#include "tests/nn/module_gradcheck.h"

using namespace qnn;
using namespace qnn::nn;
using qnn::testing::check_close;
using qnn::testing::module_gradcheck;

namespace {

void set(const Tensor& t, const std::vector<float>& values) {
  NoGradGuard no_grad;
  copy_(t, from_vector<float>(values, t.shape()));
}

}  // namespace

TEST_SUITE("nn.layers") {
  TEST_CASE("Linear computes x W^T + b over the last dim") {
    Linear lin(3, 2);
    set(lin.weight, {1, 2, 3, -1, 0, 0.5f});
    set(lin.bias, {0.5f, -1});
    const Tensor x = from_vector<float>({1, 0, -1, 2, 1, 1}, {2, 3});
    check_close(lin.forward(x).to_vector<float>(), {1 - 3 + 0.5, -1 - 0.5 - 1, 2 + 2 + 3 + 0.5, -2 + 0.5 - 1}, 1e-5);
    // [*, in]: leading dims pass through.
    const Tensor y = lin.forward(randn({4, 5, 3}));
    CHECK(y.shape() == Shape{4, 5, 2});
    Linear no_bias(3, 2, false);
    CHECK_FALSE(no_bias.bias.defined());
    CHECK(no_bias.state_dict().size() == 1);
    CHECK_THROWS_WITH_AS(lin.forward(zeros({2, 4})), "Linear: got input [2, 4] (expected [*, 3])", Error);
  }

  TEST_CASE("Linear gradients: input, weight, bias") {
    Generator gen(11);
    Linear lin(4, 3, true, gen);
    CHECK(module_gradcheck(lin, randn({5, 4}, gen)));
    Linear no_bias(4, 3, false, gen);
    CHECK(module_gradcheck(no_bias, randn({2, 3, 4}, gen)));
  }

  TEST_CASE("BatchNorm2d: training normalizes by batch and updates running stats; eval uses them") {
    Generator gen(5);
    BatchNorm2d bn(3);
    CHECK(bn.weight.to_vector<float>() == std::vector<float>{1, 1, 1});
    CHECK(bn.bias.to_vector<float>() == std::vector<float>{0, 0, 0});
    CHECK(bn.running_mean.to_vector<float>() == std::vector<float>{0, 0, 0});
    CHECK(bn.running_var.to_vector<float>() == std::vector<float>{1, 1, 1});
    set(bn.weight, {1, 2, 0.5f});
    set(bn.bias, {0, 1, -1});
    const Tensor x = add(mul(randn({4, 3, 2, 2}, gen), 3.0f), 1.0f);
    const std::vector<float> xv = x.to_vector<float>();
    // Per-channel mean and biased/unbiased variance by hand (16 values per channel).
    std::vector<double> mean(3, 0), var(3, 0);
    for (int n = 0; n < 4; ++n)
      for (int c = 0; c < 3; ++c)
        for (int i = 0; i < 4; ++i)
          mean[c] += xv[(n * 3 + c) * 4 + i] / 16.0;
    for (int n = 0; n < 4; ++n)
      for (int c = 0; c < 3; ++c)
        for (int i = 0; i < 4; ++i)
          var[c] += std::pow(xv[(n * 3 + c) * 4 + i] - mean[c], 2) / 16.0;
    const std::vector<double> w{1, 2, 0.5}, b{0, 1, -1};
    auto expected = [&](const std::vector<double>& m, const std::vector<double>& v) {
      std::vector<double> y(xv.size());
      for (int n = 0; n < 4; ++n)
        for (int c = 0; c < 3; ++c)
          for (int i = 0; i < 4; ++i) {
            const int k = (n * 3 + c) * 4 + i;
            y[k] = (xv[k] - m[c]) / std::sqrt(v[c] + 1e-5) * w[c] + b[c];
          }
      return y;
    };
    CHECK(bn.is_training());
    check_close(bn.forward(x).to_vector<float>(), expected(mean, var), 1e-4);
    std::vector<double> rm(3), rv(3);
    for (int c = 0; c < 3; ++c) {
      rm[c] = 0.1 * mean[c];
      rv[c] = 0.9 + 0.1 * var[c] * 16.0 / 15.0;  // the unbiased batch variance
    }
    check_close(bn.running_mean.to_vector<float>(), rm, 1e-5);
    check_close(bn.running_var.to_vector<float>(), rv, 1e-5);

    bn.eval();
    check_close(bn.forward(x).to_vector<float>(), expected(rm, rv), 1e-4);
    check_close(bn.running_mean.to_vector<float>(), rm, 1e-5);  // eval leaves them alone
    check_close(bn.running_var.to_vector<float>(), rv, 1e-5);

    CHECK_THROWS_WITH_AS(bn.forward(zeros({2, 3, 4})),
                         "BatchNorm2d: got input [2, 3, 4] (expected [N, C, H, W] with C = 3)", Error);
  }

  TEST_CASE("BatchNorm gradients in training and eval mode") {
    Generator gen(6);
    BatchNorm2d bn(2);
    set(bn.weight, {1.5f, -0.7f});
    set(bn.bias, {0.2f, 0.3f});
    CHECK(module_gradcheck(bn, randn({3, 2, 2, 2}, gen)));
    bn.eval();
    CHECK(module_gradcheck(bn, randn({3, 2, 2, 2}, gen)));
    BatchNorm1d bn1(3);
    CHECK(module_gradcheck(bn1, randn({6, 3}, gen)));
    CHECK(bn1.forward(randn({4, 3, 5}, gen)).shape() == Shape{4, 3, 5});
  }

  TEST_CASE("BatchNorm without running stats uses batch statistics in eval; without affine has no params") {
    BatchNorm1d bn(2, {.affine = false, .track_running_stats = false});
    CHECK(bn.state_dict().empty());
    bn.eval();
    const Tensor y = bn.forward(from_vector<float>({1, 10, 3, 30}, {2, 2}));
    check_close(y.to_vector<float>(), {-1, -1, 1, 1}, 1e-4);
  }

  TEST_CASE("LayerNorm normalizes the trailing dims; gradients") {
    Generator gen(7);
    LayerNorm ln({4});
    CHECK(ln.weight.shape() == Shape{4});
    const Tensor y = ln.forward(from_vector<float>({1, 2, 3, 4}, {1, 4}));
    const double s = std::sqrt(1.25 + 1e-5);
    check_close(y.to_vector<float>(), {-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s}, 1e-5);
    set(ln.weight, {1, 2, -1, 0.5f});
    set(ln.bias, {0, 0.1f, 0.2f, 0.3f});
    CHECK(module_gradcheck(ln, randn({3, 4}, gen)));
    LayerNorm ln2({2, 3}, 1e-6f, false);
    CHECK(ln2.state_dict().empty());
    CHECK(module_gradcheck(ln2, randn({2, 2, 3}, gen)));
  }

  TEST_CASE("ReLU and GELU") {
    const Tensor x = from_vector({-2, -0.5f, 0.5f, 3});
    ReLU relu_m;
    GELU gelu_m;
    CHECK(relu_m.forward(x).to_vector<float>() == std::vector<float>{0, 0, 0.5f, 3});
    std::vector<double> g;
    for (double v : {-2.0, -0.5, 0.5, 3.0})
      g.push_back(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
    check_close(gelu_m.forward(x).to_vector<float>(), g, 1e-5);
    Generator gen(8);
    CHECK(module_gradcheck(gelu_m, randn({10}, gen)));
    CHECK(module_gradcheck(relu_m, from_vector({-1, -0.3f, 0.4f, 2})));  // away from the kink
  }

  TEST_CASE("Dropout: identity in eval; seeded masks with scaled survivors in training") {
    Generator g1(3), g2(3);
    Dropout d1(0.25f, g1), d2(0.25f, g2);
    const Tensor x = ones({10000});
    const std::vector<float> y = d1.forward(x).to_vector<float>();
    CHECK(y == d2.forward(x).to_vector<float>());
    int64_t zeros_seen = 0;
    for (float v : y) {
      CHECK((v == 0.0f || v == doctest::Approx(1.0 / 0.75)));
      zeros_seen += v == 0.0f;
    }
    CHECK(std::abs(zeros_seen - 2500) < 200);  // ~4.6 standard deviations
    d1.eval();
    CHECK(d1.forward(x).impl() == x.impl());
    CHECK_THROWS_AS(Dropout(1.0f), Error);
  }

  TEST_CASE("Flatten, Identity and Sequential") {
    Flatten f;
    CHECK(f.forward(zeros({2, 3, 4, 5})).shape() == Shape{2, 60});
    CHECK(Flatten(0, 1).forward(zeros({2, 3, 4})).shape() == Shape{6, 4});
    Identity id;
    const Tensor x = randn({3});
    CHECK(id.forward(x).impl() == x.impl());

    Generator gen(9);
    auto l1 = std::make_shared<Linear>(4, 3, true, gen);
    auto l2 = std::make_shared<Linear>(3, 2, true, gen);
    Sequential seq{l1, std::make_shared<ReLU>()};
    seq.push_back(l2);
    CHECK(seq.size() == 3);
    std::vector<std::string> names;
    for (const auto& [name, p] : seq.named_parameters())
      names.push_back(name);
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
    const Tensor in = randn({5, 4}, gen);
    CHECK(seq.forward(in).to_vector<float>() == l2->forward(relu(l1->forward(in))).to_vector<float>());
    CHECK(seq.at<Linear>(2) == l2);
    CHECK_THROWS_AS(seq.at<Linear>(1), Error);
    CHECK_THROWS_AS(seq[3], Error);
    CHECK(Sequential().forward(in).impl() == in.impl());
    CHECK(module_gradcheck(seq, randn({2, 4}, gen)));
  }
}
