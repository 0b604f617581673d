// Unary math: forward against double-precision references computed here, gradients against finite
// differences, in-place forms, and input errors.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/gradcheck.h"

using namespace qnn;
using qnn::testing::gradcheck;
using qnn::testing::leaf;

namespace {

struct UnaryCase {
  std::string name;
  std::function<Tensor(const Tensor&)> op;
  std::function<double(double)> reference;
  bool positive_only;  // the op's domain (log, sqrt, rsqrt)
};

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }, [](double v) { return -v; }, false},
      {"exp", [](const Tensor& x) { return exp(x); }, [](double v) { return std::exp(v); }, false},
      {"log", [](const Tensor& x) { return log(x); }, [](double v) { return std::log(v); }, true},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](double v) { return std::sqrt(v); }, true},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, [](double v) { return 1.0 / std::sqrt(v); }, true},
      {"abs", [](const Tensor& x) { return abs(x); }, [](double v) { return std::fabs(v); }, false},
      {"tanh", [](const Tensor& x) { return tanh(x); }, [](double v) { return std::tanh(v); }, false},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, [](double v) { return 1.0 / (1.0 + std::exp(-v)); },
       false},
      {"relu", [](const Tensor& x) { return relu(x); }, [](double v) { return v > 0 ? v : 0.0; }, false},
      {"gelu", [](const Tensor& x) { return gelu(x); },
       [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }, false},
      {"pow3", [](const Tensor& x) { return pow(x, 3.0f); }, [](double v) { return v * v * v; }, false},
      {"pow-1.5", [](const Tensor& x) { return pow(x, -1.5f); }, [](double v) { return std::pow(v, -1.5); }, true},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5f, 0.7f); },
       [](double v) { return v < -0.5 ? -0.5 : (v > 0.7 ? 0.7 : v); }, false},
  };
}

// Values away from the kinks of abs/relu/clamp so finite differences are well defined.
Tensor sample(bool positive_only, const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  Tensor x = randn(shape, gen);
  std::vector<float> v = x.to_vector<float>();
  for (float& e : v) {
    if (positive_only)
      e = 0.2f + std::fabs(e);
    else if (std::fabs(e) < 0.05f || std::fabs(e + 0.5f) < 0.05f || std::fabs(e - 0.7f) < 0.05f)
      e += 0.13f;
  }
  return from_vector<float>(v, shape);
}

}  // namespace

TEST_CASE("unary ops match double-precision references") {
  for (const UnaryCase& c : unary_cases()) {
    CAPTURE(c.name);
    Tensor x = sample(c.positive_only, {3, 5, 7}, 7);
    const std::vector<float> xv = x.to_vector<float>(), yv = c.op(x).to_vector<float>();
    for (size_t i = 0; i < xv.size(); ++i) {
      const double want = c.reference(xv[i]);
      REQUIRE_MESSAGE(std::abs(yv[i] - want) <= 2e-6 * (1.0 + std::abs(want)), "x=" << xv[i] << " got " << yv[i]);
    }
    // A non-contiguous view gives the same values as its contiguous copy.
    Tensor xt = x.transpose(0, 2);
    CHECK(c.op(xt).to_vector<float>() == c.op(xt.contiguous()).to_vector<float>());
  }
}

TEST_CASE("unary ops: gradients match finite differences") {
  for (const UnaryCase& c : unary_cases()) {
    CAPTURE(c.name);
    Tensor x = leaf(sample(c.positive_only, {2, 3, 4}, 11));
    CHECK(gradcheck([&](const std::vector<Tensor>& in) { return c.op(in[0]); }, {x}));
  }
}

TEST_CASE("kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, clamp passes at the bounds, sign has zero grad") {
  Tensor x = leaf(from_vector<float>({0.0f, -1.0f, 1.0f}, {3}));
  sum(relu(x)).backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{0, 0, 1});
  x.zero_grad();
  sum(abs(x)).backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{0, -1, 1});
  x.zero_grad();
  sum(clamp(x, -1.0f, 0.0f)).backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{1, 1, 0});
  x.zero_grad();
  Tensor s = sign(x);
  CHECK(s.to_vector<float>() == std::vector<float>{0, -1, 1});
  sum(s).backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{0, 0, 0});
}

TEST_CASE("sigmoid is stable for large inputs") {
  std::vector<float> y = sigmoid(from_vector<float>({-200.0f, 200.0f, 0.0f}, {3})).to_vector<float>();
  CHECK(y[0] == 0.0f);
  CHECK(y[1] == 1.0f);
  CHECK(y[2] == 0.5f);
  CHECK(std::isfinite(y[0]));
}

TEST_CASE("in-place forms change the tensor and its views") {
  NoGradGuard no_grad;
  Tensor x = from_vector<float>({-2, -0.5, 0.5, 4}, {2, 2});
  Tensor y = x.clone();
  relu_(y);
  CHECK(y.to_vector<float>() == std::vector<float>{0, 0, 0.5, 4});
  Tensor z = x.clone();
  clamp_(z.t(), -1.0f, 1.0f);  // through a transposed view
  CHECK(z.to_vector<float>() == std::vector<float>{-1, -0.5, 0.5, 1});
  Tensor w = from_vector<float>({4, 9}, {2});
  sqrt_(w);
  CHECK(w.to_vector<float>() == std::vector<float>{2, 3});
  Tensor s = from_vector<float>({1, 1, 1, 1}, {2, 2});
  addcmul_(s, from_vector<float>({1, 2, 3, 4}, {2, 2}), from_vector<float>({10, 100}, {2}), 0.5f);
  CHECK(s.to_vector<float>() == std::vector<float>{6, 101, 16, 201});  // b broadcasts over rows
  Tensor d = from_vector<float>({1, 1}, {2});
  addcdiv_(d, from_vector<float>({3, 8}, {2}), from_vector<float>({2, 4}, {2}), -1.0f);
  CHECK(d.to_vector<float>() == std::vector<float>{-0.5f, -1.0f});
}

TEST_CASE("unary ops reject bad input") {
  CHECK_THROWS_AS(relu(Tensor()), Error);
  CHECK_THROWS_WITH_AS(exp(arange(4)), doctest::Contains("exp: got dtype int64 (expected float32)"), Error);
  CHECK_THROWS_WITH_AS(clamp(ones({2}), 1.0f, 0.0f), doctest::Contains("clamp: got low 1 > high 0"), Error);
  Tensor g = ones({2}).set_requires_grad(true);
  CHECK_THROWS_AS(relu_(g), Error);  // in place on a tensor that requires grad, grad mode on
  NoGradGuard no_grad;
  CHECK_THROWS_AS(addcmul_(ones({2}), ones({3}), ones({2})), Error);
  CHECK_THROWS_AS(addcmul_(ones({2}), ones({2, 2}), ones({2})), Error);  // would grow self
}

TEST_CASE("relu keeps NaN, as torch.relu does; its gradient passes at NaN as torch's threshold_backward") {
  const Tensor x = leaf(from_vector<float>({NAN, -1.0f, 2.0f}, {3}));
  const Tensor y = relu(x);
  const std::vector<float> v = y.to_vector<float>();
  CHECK(std::isnan(v[0]));
  CHECK(v[1] == 0.0f);
  CHECK(v[2] == 2.0f);
  sum(y).backward();
  const std::vector<float> g = x.grad().to_vector<float>();
  CHECK(g == std::vector<float>{1.0f, 0.0f, 1.0f});
  Tensor z = from_vector<float>({NAN, -3.0f}, {2});
  relu_(z);
  CHECK(std::isnan(z.to_vector<float>()[0]));
  CHECK(z.to_vector<float>()[1] == 0.0f);
}
