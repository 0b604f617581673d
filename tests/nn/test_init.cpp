// nn::init: fans and gains by hand, bounds, and sample moments against the formulas (large
// samples, tolerances of several standard errors); seeds fix every value.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/ops.h"
#include "nn/nn.h"

using namespace qnn;
using namespace qnn::nn;

namespace {

struct Moments {
  double mean, std, lo, hi;
};

Moments moments(const Tensor& t) {
  const std::vector<float> v = t.to_vector<float>();
  double s = 0.0, s2 = 0.0;
  for (float x : v)
    s += x;
  const double mean = s / static_cast<double>(v.size());
  for (float x : v)
    s2 += (x - mean) * (x - mean);
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return {mean, std::sqrt(s2 / static_cast<double>(v.size() - 1)), *lo, *hi};
}

double phi(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI); }
double Phi(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

}  // namespace

TEST_SUITE("nn.init") {
  TEST_CASE("fans and gains follow torch.nn.init") {
    CHECK(init::fan_in_and_fan_out(empty({16, 3, 3, 3})) == std::pair<int64_t, int64_t>{27, 144});
    CHECK(init::fan_in_and_fan_out(empty({10, 64})) == std::pair<int64_t, int64_t>{64, 10});
    CHECK_THROWS_AS(init::fan_in_and_fan_out(empty({10})), Error);
    CHECK(init::calculate_gain("relu") == doctest::Approx(std::sqrt(2.0)));
    CHECK(init::calculate_gain("leaky_relu", std::sqrt(5.0)) == doctest::Approx(std::sqrt(1.0 / 3.0)));
    CHECK(init::calculate_gain("tanh") == doctest::Approx(5.0 / 3.0));
    CHECK(init::calculate_gain("conv2d") == 1.0);
    CHECK_THROWS_AS(init::calculate_gain("swish"), Error);
  }

  TEST_CASE("kaiming_uniform_ with a = sqrt(5) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))") {
    Generator gen(1);
    Tensor w = empty({256, 400});
    init::kaiming_uniform_(w, std::sqrt(5.0), init::FanMode::FanIn, "leaky_relu", gen);
    const Moments m = moments(w);
    const double bound = 1.0 / std::sqrt(400.0);
    CHECK(m.lo >= -bound);
    CHECK(m.hi <= bound);
    CHECK(m.hi > 0.999 * bound);
    CHECK(std::abs(m.mean) < 0.01 * bound);
    CHECK(m.std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.01));
  }

  TEST_CASE("kaiming_normal_ and xavier have the formula's spread") {
    Generator gen(2);
    Tensor w = empty({256, 100, 2, 2});  // fan_in 400, fan_out 1024
    init::kaiming_normal_(w, 0.0, init::FanMode::FanIn, "leaky_relu", gen);
    Moments m = moments(w);
    CHECK(m.std == doctest::Approx(std::sqrt(2.0 / 400.0)).epsilon(0.01));
    CHECK(std::abs(m.mean) < 0.01 * m.std);
    init::kaiming_normal_(w, 0.0, init::FanMode::FanOut, "relu", gen);
    CHECK(moments(w).std == doctest::Approx(std::sqrt(2.0 / 1024.0)).epsilon(0.01));
    init::xavier_uniform_(w, 1.0, gen);
    m = moments(w);
    const double bound = std::sqrt(6.0 / (400.0 + 1024.0));
    CHECK(m.lo >= -bound);
    CHECK(m.hi <= bound);
    CHECK(m.std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.01));
    init::xavier_normal_(w, 2.0, gen);
    CHECK(moments(w).std == doctest::Approx(2.0 * std::sqrt(2.0 / (400.0 + 1024.0))).epsilon(0.01));
  }

  TEST_CASE("trunc_normal_ stays in [a, b] with the truncated normal's mean and spread") {
    Generator gen(3);
    Tensor w = empty({100000});
    // The ViT default: std 0.02 in [-2, 2], effectively untruncated.
    init::trunc_normal_(w, 0.0, 0.02, -2.0, 2.0, gen);
    Moments m = moments(w);
    CHECK(m.std == doctest::Approx(0.02).epsilon(0.01));
    // Narrow, one-sided and far-tail intervals (CDF inversion, mirrored for the upper side).
    struct Case {
      double mean, std, a, b;
    };
    for (const Case c : {Case{0.0, 1.0, 1.0, 1.5}, Case{0.0, 1.0, 5.0, 6.0}, Case{0.0, 1.0, -6.0, -5.0},
                         Case{1.0, 2.0, -1.0, 2.0}, Case{0.0, 1.0, -0.3, 0.2}}) {
      CAPTURE(c.a);
      CAPTURE(c.b);
      init::trunc_normal_(w, c.mean, c.std, c.a, c.b, gen);
      m = moments(w);
      const double al = (c.a - c.mean) / c.std, be = (c.b - c.mean) / c.std, Z = Phi(be) - Phi(al);
      const double t_mean = c.mean + c.std * (phi(al) - phi(be)) / Z;
      const double t_var =
          c.std * c.std * (1.0 + (al * phi(al) - be * phi(be)) / Z - std::pow((phi(al) - phi(be)) / Z, 2));
      CHECK(m.lo >= c.a);
      CHECK(m.hi <= c.b);
      CHECK(m.mean == doctest::Approx(t_mean).epsilon(0.01).scale(c.b - c.a));
      CHECK(m.std == doctest::Approx(std::sqrt(t_var)).epsilon(0.02));
    }
    CHECK_THROWS_AS(init::trunc_normal_(w, 0.0, 1.0, 1.0, 1.0, gen), Error);
  }

  TEST_CASE("constants and strided views") {
    Tensor w = empty({3, 4});
    init::ones_(w);
    CHECK(w.to_vector<float>() == std::vector<float>(12, 1.0f));
    init::zeros_(w.t());  // a non-contiguous view is filled through its strides
    CHECK(w.to_vector<float>() == std::vector<float>(12, 0.0f));
    init::constant_(w.select(0, 1), 2.5);
    CHECK(w.to_vector<float>()[5] == 2.5f);
    CHECK(w.to_vector<float>()[0] == 0.0f);
  }

  TEST_CASE("a seed fixes every initial weight; default layer inits match PyTorch's bounds") {
    Generator g1(42), g2(42), g3(43);
    Linear a(100, 7, true, g1), b(100, 7, true, g2), c(100, 7, true, g3);
    CHECK(a.weight.to_vector<float>() == b.weight.to_vector<float>());
    CHECK(a.bias.to_vector<float>() == b.bias.to_vector<float>());
    CHECK(a.weight.to_vector<float>() != c.weight.to_vector<float>());
    for (const Tensor& t : {a.weight, a.bias}) {
      const Moments m = moments(t);
      CHECK(m.lo >= -0.1);
      CHECK(m.hi <= 0.1);
    }
    Generator g4(5);
    Conv2d conv(8, 300, 3, {.padding = 1}, g4);  // fan_in 72
    const double bound = 1.0 / std::sqrt(72.0);
    for (const Tensor& t : {conv.weight, conv.bias}) {
      const Moments m = moments(t);
      CHECK(m.lo >= -bound);
      CHECK(m.hi <= bound);
      CHECK(m.hi > 0.9 * bound);
    }
    manual_seed(9);
    Linear d(5, 5);
    manual_seed(9);
    Linear e(5, 5);
    CHECK(d.weight.to_vector<float>() == e.weight.to_vector<float>());
  }
}
