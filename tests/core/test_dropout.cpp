// dropout: statistics of the mask, the inverted scale, determinism per seed, identity cases, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "core/ops.h"
#include "tests/gradcheck.h"

using namespace qnn;
using qnn::testing::leaf;

TEST_CASE("dropout zeroes about a fraction p and scales the rest by 1/(1-p)") {
  for (float p : {0.1f, 0.5f, 0.9f}) {
    CAPTURE(p);
    Generator gen(7);
    const int64_t n = 200000;
    Tensor x = ones({n});
    const std::vector<float> y = dropout(x, p, true, gen).to_vector<float>();
    int64_t zeros_seen = 0;
    bool scale_ok = true;
    for (float v : y) {
      if (v == 0.0f)
        ++zeros_seen;
      else
        scale_ok = scale_ok && std::abs(v - 1.0f / (1.0f - p)) < 1e-6f;
    }
    CHECK(scale_ok);
    // Binomial standard deviation sqrt(n p (1-p)) <= 224: allow 5 sigma.
    CHECK(std::abs(static_cast<double>(zeros_seen) / n - p) < 5.0 * std::sqrt(p * (1.0 - p) / n) + 1e-9);
  }
}

TEST_CASE("dropout keeps the mean (inverted dropout) and masks are not correlated with position") {
  Generator gen(8);
  Tensor x = ones({100, 1000});
  const std::vector<float> y = dropout(x, 0.3f, true, gen).to_vector<float>();
  double total = 0.0, first_half_zeros = 0.0, second_half_zeros = 0.0;
  for (size_t i = 0; i < y.size(); ++i) {
    total += y[i];
    (i % 2 == 0 ? first_half_zeros : second_half_zeros) += y[i] == 0.0f;
  }
  CHECK(total / y.size() == doctest::Approx(1.0).epsilon(0.01));
  // Even and odd elements come from the two halves of one 64-bit draw: both near p.
  CHECK(first_half_zeros / (y.size() / 2) == doctest::Approx(0.3).epsilon(0.03));
  CHECK(second_half_zeros / (y.size() / 2) == doctest::Approx(0.3).epsilon(0.03));
}

TEST_CASE("dropout is deterministic per seed and independent of the thread count") {
  Tensor x = randn({300000});
  Generator a(42), b(42), c(43);
  const int before = num_threads();
  set_num_threads(1);
  const std::vector<float> ya = dropout(x, 0.5f, true, a).to_vector<float>();
  set_num_threads(2);
  const std::vector<float> yb = dropout(x, 0.5f, true, b).to_vector<float>();
  set_num_threads(before);
  const std::vector<float> yc = dropout(x, 0.5f, true, c).to_vector<float>();
  CHECK(ya == yb);
  CHECK(ya != yc);
  // The generator advances: a second call draws a different mask.
  CHECK(dropout(x, 0.5f, true, a).to_vector<float>() != ya);
}

TEST_CASE("dropout gradient is the same mask and scale") {
  Generator gen(9);
  Tensor x = leaf(randn({4, 50}, gen));
  Tensor y = dropout(x.t(), 0.4f, true, gen);  // non-contiguous input
  y.backward(ones(y.shape()));
  const std::vector<float> yv = y.to_vector<float>(), xv = x.t().contiguous().to_vector<float>();
  const std::vector<float> gv = x.grad().t().contiguous().to_vector<float>();
  int zeros_seen = 0;
  for (size_t i = 0; i < yv.size(); ++i) {
    const bool kept = yv[i] != 0.0f;
    zeros_seen += !kept;
    CHECK(gv[i] == doctest::Approx(kept ? 1.0 / 0.6 : 0.0));
    if (kept)
      CHECK(yv[i] == doctest::Approx(xv[i] / 0.6));
  }
  CHECK(zeros_seen > 40);
  CHECK(zeros_seen < 120);
}

TEST_CASE("dropout is the identity in eval mode and for p = 0; bad p is an error") {
  Tensor x = randn({10});
  CHECK(dropout(x, 0.5f, false).to_vector<float>() == x.to_vector<float>());
  CHECK(dropout(x, 0.0f, true).to_vector<float>() == x.to_vector<float>());
  CHECK_THROWS_WITH_AS(dropout(x, 1.0f, true), doctest::Contains("dropout: got p = 1 (expected 0 <= p < 1)"), Error);
  CHECK_THROWS_WITH_AS(dropout(x, -0.1f, false), doctest::Contains("expected 0 <= p < 1"), Error);
  CHECK_THROWS_WITH_AS(dropout(x.to(DType::Int64), 0.5f, true), doctest::Contains("expected float32"), Error);
}
