// Uniform quantizers of the PARQ authors' code (the paper uses only LSBQ): worked vectors on the
// 8-value input of test_lsbq.cpp (reference values from an independent re-implementation of the
// code's formulas), half-to-even rounding, level counts, midtread, the ternary variant.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <vector>

#include "core/error.h"
#include "core/generator.h"
#include "quant/quantizers/quantizer.h"
#include "quant/quantizers/uniform.h"
#include "tests/check_close.h"

using namespace qnn;
using namespace qnn::quant;
using qnn::testing::check_close;
using qnn::testing::Tolerance;

namespace {

const std::vector<float> kP = {-1.3f, -0.6f, -0.2f, 0.0f, 0.1f, 0.45f, 0.9f, 2.1f};

// Absolute: |got - want| <= 1e-5.
constexpr Tolerance kTol = Tolerance::absolute(1e-5);

}  // namespace

TEST_SUITE("uniform") {
  TEST_CASE("mean scale, midrise, b = 1..4: the worked vectors") {
    std::vector<float> q(kP.size());
    const Alphabet Q1 = uniform_quantize(kP, 1, UniformScale::mean, false, q);  // q_max = 0.70625
    check_close(Q1.levels(), {-0.70625, 0.70625}, kTol);
    const Alphabet Q2 = uniform_quantize(kP, 2, UniformScale::mean, false, q);  // q_max = 1.4125, s = 0.941667
    check_close(Q2.levels(), {-1.4125, -0.4708333, 0.4708333, 1.4125}, kTol);
    check_close(q, {-1.4125, -0.4708333, -0.4708333, 0.4708333, 0.4708333, 0.4708333, 0.4708333, 1.4125}, kTol);
    // b = 3: q_max = min(3 * 0.70625, 2.1) = 2.1, s = 0.6. Element 0.0: 0/s - 0.5 = -0.5 rounds
    // half-to-even to -0, so q-hat = +0.5 s = 0.3 (std::round would give -0.3).
    const Alphabet Q3 = uniform_quantize(kP, 3, UniformScale::mean, false, q);
    check_close(q, {-1.5, -0.9, -0.3, 0.3, 0.3, 0.3, 0.9, 2.1}, kTol);
    CHECK(Q3.size() == 8);
    const Alphabet Q4 = uniform_quantize(kP, 4, UniformScale::mean, false, q);  // s = 0.28
    check_close(q, {-1.26, -0.7, -0.14, 0.14, 0.14, 0.42, 0.98, 2.1}, kTol);
    CHECK(Q4.size() == 16);
    check_close({Q4.levels().front(), Q4.levels().back()}, {-2.1, 2.1}, kTol);
  }

  TEST_CASE("max scale and midtread") {
    std::vector<float> q(kP.size());
    const Alphabet Qm = uniform_quantize(kP, 2, UniformScale::max, false, q);  // s = 2.1 / 1.5 = 1.4
    check_close(Qm.levels(), {-2.1, -0.7, 0.7, 2.1}, kTol);
    // MaxUnif midtread b = 2: s = 2.1, Q = {-2.1, 0, 2.1}.
    const Alphabet Qt = uniform_quantize(kP, 2, UniformScale::max, true, q);
    check_close(Qt.levels(), {-2.1, 0.0, 2.1}, kTol);
    check_close(q, {-2.1, 0, 0, 0, 0, 0, 0, 2.1}, kTol);
    // b = 3: s = 0.7, levels 0, +-0.7, +-1.4, +-2.1; round(-0.2/0.7) = 0, round(0.45/0.7) = 1.
    const Alphabet Q3 = uniform_quantize(kP, 3, UniformScale::max, true, q);
    CHECK(Q3.size() == 7);
    check_close(q, {-1.4, -0.7, 0, 0, 0, 0.7, 0.7, 2.1}, kTol);
    CHECK_THROWS_AS(uniform_quantize(kP, 1, UniformScale::max, true, q), Error);
  }

  TEST_CASE("ternary uniform: s = max|u|/1.5, threshold max|u|/3") {
    std::vector<float> q(kP.size());
    const Alphabet Q = uniform_ternary(kP, q);  // s = 1.4, threshold 0.7
    check_close(Q.levels(), {-1.4, 0.0, 1.4}, kTol);
    check_close(q, {-1.4, 0, 0, 0, 0, 0, 1.4, 1.4}, kTol);
  }

  TEST_CASE("q-hat is on Q and uses every level on random data, per tensor and per row") {
    // Uniform data on [-1, 1): every level has mass (Gaussian rows of 1024 values may leave the
    // outermost 4-bit level empty).
    Generator gen(9);
    std::vector<float> x(256 * 32);
    for (float& v : x)
      v = 2.0f * gen.uniform() - 1.0f;
    for (int bits = 0; bits <= 4; ++bits)
      for (bool midtread : {false, true}) {
        if (midtread && bits < 2)
          continue;
        QuantizerSpec spec;
        spec.method = "uniform";
        spec.bits = bits;
        spec.midtread = midtread;
        for (int64_t rows : {int64_t{1}, int64_t{8}}) {
          const GroupQuantization g = quantize_groups(x, rows, spec);
          const size_t n = x.size() / rows;
          for (int64_t r = 0; r < rows; ++r) {
            std::set<float> unique;
            for (size_t i = r * n; i < (r + 1) * n; ++i) {
              REQUIRE(g.Q[r].index_of(g.q_hat[i]) >= 0);
              unique.insert(g.q_hat[i]);
            }
            CHECK(unique.size() == static_cast<size_t>(g.Q[r].size()));
          }
        }
      }
  }
}
