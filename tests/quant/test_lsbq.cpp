// LSBQ (PARQ Section 4; greedy and ternary as in the PARQ authors' code): worked vectors on an
// 8-value input (reference values from an independent re-implementation of the code's formulas),
// the optimal 2-bit and ternary fits against brute force over every assignment on small inputs,
// |unique(q-hat)| = |Q|, per-channel grouping, and greedy b = 1 == uniform b = 1.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "core/error.h"
#include "core/generator.h"
#include "quant/quantizers/lsbq.h"
#include "quant/quantizers/quantizer.h"
#include "quant/quantizers/uniform.h"
#include "tests/check_close.h"

using namespace qnn;
using namespace qnn::quant;
using qnn::testing::check_close;
using qnn::testing::Tolerance;

namespace {

// The worked example's input: mean|p| = 0.70625.
const std::vector<float> kP = {-1.3f, -0.6f, -0.2f, 0.0f, 0.1f, 0.45f, 0.9f, 2.1f};

// Absolute: |got - want| <= 1e-5.
constexpr Tolerance kTol = Tolerance::absolute(1e-5);

std::vector<float> nearest_all(const Alphabet& Q, const std::vector<float>& x) {
  std::vector<float> out;
  for (float v : x)
    out.push_back(Q.nearest(v));
  return out;
}

std::vector<float> random_values(size_t n, uint64_t seed, bool laplace = false) {
  Generator gen(seed);
  std::vector<float> x(n);
  for (float& v : x) {
    v = gen.normal();
    if (laplace)
      v = (gen.uniform() < 0.5f ? -1.0f : 1.0f) * -std::log(1.0f - gen.uniform());
  }
  return x;
}

// The least squared error of a 2-level fit of |u| where each |u_i| may go to either level (every
// one of the 2^d assignments; each level the mean of its members). `zero_level`: one level is
// fixed at 0 (ternary).
double brute_force_error(const std::vector<float>& u, bool zero_level) {
  const size_t d = u.size();
  double best = std::numeric_limits<double>::infinity();
  for (size_t mask = 0; mask < (size_t{1} << d); ++mask) {
    double s1 = 0, n1 = 0, s0 = 0, n0 = 0;
    for (size_t i = 0; i < d; ++i) {
      const double a = std::fabs(static_cast<double>(u[i]));
      ((mask >> i) & 1 ? s1 : s0) += a;
      ((mask >> i) & 1 ? n1 : n0) += 1;
    }
    const double m1 = n1 > 0 ? s1 / n1 : 0.0, m0 = zero_level || n0 == 0 ? 0.0 : s0 / n0;
    double err = 0.0;
    for (size_t i = 0; i < d; ++i) {
      const double a = std::fabs(static_cast<double>(u[i]));
      err += (mask >> i) & 1 ? (a - m1) * (a - m1) : (a - m0) * (a - m0);
    }
    best = std::min(best, err);
  }
  return best;
}

double squared_error(const std::vector<float>& u, const std::vector<float>& q) {
  double e = 0.0;
  for (size_t i = 0; i < u.size(); ++i)
    e += (static_cast<double>(u[i]) - q[i]) * (static_cast<double>(u[i]) - q[i]);
  return e;
}

}  // namespace

TEST_SUITE("lsbq") {
  TEST_CASE("greedy b = 1, 2, 3 reproduce the worked vectors") {
    std::vector<float> q(kP.size());
    const Alphabet Q1 = lsbq_greedy(kP, 1, q);
    check_close(Q1.levels(), {-0.70625, 0.70625}, kTol);
    // bsign(0) = +1 in q-hat; nearest sends the midpoint 0 to the lower level.
    check_close(q, {-0.70625, -0.70625, -0.70625, 0.70625, 0.70625, 0.70625, 0.70625, 0.70625}, kTol);
    check_close(nearest_all(Q1, kP), {-0.70625, -0.70625, -0.70625, -0.70625, 0.70625, 0.70625, 0.70625, 0.70625},
                kTol);

    const Alphabet Q2 = lsbq_greedy(kP, 2, q);  // v = [0.70625, 0.5453125]
    check_close(Q2.levels(), {-1.2515625, -0.1609375, 0.1609375, 1.2515625}, kTol);
    check_close(q, {-1.2515625, -0.1609375, -0.1609375, 0.1609375, 0.1609375, 0.1609375, 1.2515625, 1.2515625}, kTol);

    const Alphabet Q3 = lsbq_greedy(kP, 3, q);  // v = [0.70625, 0.5453125, 0.2796875]
    check_close(Q3.levels(), {-1.53125, -0.971875, -0.440625, -0.11875, 0.11875, 0.440625, 0.971875, 1.53125}, kTol);
    check_close(q, {-1.53125, -0.440625, -0.440625, -0.11875, -0.11875, 0.440625, 0.971875, 1.53125}, kTol);
    // The projection of PARQ Eq. (2) (the nearest point) differs from q-hat at -0.2 and 0.1.
    check_close(nearest_all(Q3, kP), {-1.53125, -0.440625, -0.11875, -0.11875, 0.11875, 0.440625, 0.971875, 1.53125},
                kTol);
  }

  TEST_CASE("ternary heuristic: v = 1.1 mean|u|, worked vector") {
    std::vector<float> q(kP.size());
    const Alphabet Q = lsbq_ternary_simple(kP, q);
    const double v = 0.776875;
    check_close(Q.levels(), {-v, 0.0, v}, kTol);
    check_close(q, {-v, -v, 0, 0, 0, v, v, v}, kTol);
  }

  TEST_CASE("q-hat lies exactly on Q and |unique(q-hat)| = |Q|, per tensor and per row") {
    const std::vector<float> x = random_values(256 * 32, 7);
    for (int bits = 0; bits <= 4; ++bits)
      for (bool optimal : {false, true}) {
        if (optimal && bits > 2)
          continue;
        QuantizerSpec spec;
        spec.bits = bits;
        spec.optimal = optimal;
        for (int64_t rows : {int64_t{1}, int64_t{8}}) {
          const GroupQuantization g = quantize_groups(x, rows, spec);
          REQUIRE(static_cast<int64_t>(g.Q.size()) == rows);
          const size_t n = x.size() / rows;
          for (int64_t r = 0; r < rows; ++r) {
            std::set<float> unique;
            for (size_t i = r * n; i < (r + 1) * n; ++i) {
              CHECK(g.Q[r].index_of(g.q_hat[i]) >= 0);
              unique.insert(g.q_hat[i]);
            }
            CHECK_MESSAGE(unique.size() == static_cast<size_t>(g.Q[r].size()), spec.describe() << " rows " << rows);
            CHECK(g.Q[r].size() == (bits == 0 ? 3 : 1 << bits));
          }
        }
      }
  }

  TEST_CASE("per-channel: each row gets its own Q, equal to quantizing the row alone") {
    const std::vector<float> x = random_values(4 * 50, 3);
    QuantizerSpec spec;
    spec.bits = 2;
    const GroupQuantization g = quantize_groups(x, 4, spec);
    for (int r = 0; r < 4; ++r) {
      const std::vector<float> row(x.begin() + r * 50, x.begin() + (r + 1) * 50);
      std::vector<float> q(50);
      const Alphabet Q = lsbq_greedy(row, 2, q);
      CHECK(Q.levels() == g.Q[r].levels());
      CHECK(std::equal(q.begin(), q.end(), g.q_hat.begin() + r * 50));
    }
    CHECK(g.Q[0].levels() != g.Q[1].levels());
  }

  TEST_CASE("greedy foldable q-hat is the nearest point for b <= 2 (away from ties), not always for b >= 3") {
    const std::vector<float> x = random_values(20000, 11, /*laplace=*/true);
    std::vector<float> q(x.size());
    const Alphabet Q2 = lsbq_greedy(x, 2, q);
    for (size_t i = 0; i < x.size(); ++i)
      REQUIRE(q[i] == Q2.nearest(x[i]));
    const Alphabet Q3 = lsbq_greedy(x, 3, q);
    size_t differ = 0;
    for (size_t i = 0; i < x.size(); ++i)
      differ += q[i] != Q3.nearest(x[i]);
    CHECK(differ > 0);  // about a third of them for 3-bit Laplace data
  }

  TEST_CASE("optimal 2-bit and ternary LSBQ against brute force over every assignment") {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      const size_t d = 3 + seed % 8;  // 3..10 values
      const std::vector<float> u = random_values(d, seed, seed % 2 == 0);
      std::vector<float> q(d);
      lsbq_optimal_2bit(u, q);
      CHECK(squared_error(u, q) == doctest::Approx(brute_force_error(u, false)).epsilon(1e-9));
      lsbq_optimal_ternary(u, q);
      CHECK(squared_error(u, q) == doctest::Approx(brute_force_error(u, true)).epsilon(1e-9));
      // The optimum is never worse than the greedy fit or the 1.1 heuristic.
      std::vector<float> g(d);
      lsbq_greedy(u, 2, g);
      lsbq_optimal_2bit(u, q);
      CHECK(squared_error(u, q) <= squared_error(u, g) + 1e-9);
      lsbq_ternary_simple(u, g);
      lsbq_optimal_ternary(u, q);
      CHECK(squared_error(u, q) <= squared_error(u, g) + 1e-9);
    }
  }

  TEST_CASE("optimal ternary: the level is the mean of the values above the threshold (fixed point)") {
    const std::vector<float> u = {0.05f, -0.1f, 0.9f, -1.1f, 1.0f, 0.2f};
    std::vector<float> q(u.size());
    const Alphabet Q = lsbq_optimal_ternary(u, q);
    // Above v = L/2 = 0.5: {0.9, 1.1, 1.0}, L = 1.0.
    check_close(Q.levels(), {-1.0, 0.0, 1.0}, Tolerance::absolute(1e-7));
    check_close(q, {0, 0, 1, -1, 1, 0}, Tolerance::absolute(1e-7));
  }

  TEST_CASE("greedy b = 1 equals uniform b = 1 (both are {+-mean|u|})") {
    const std::vector<float> x = random_values(1000, 5);
    std::vector<float> a(x.size()), b(x.size());
    const Alphabet Qa = lsbq_greedy(x, 1, a);
    const Alphabet Qb = uniform_quantize(x, 1, UniformScale::mean, false, b);
    REQUIRE(Qa.size() == 2);
    REQUIRE(Qb.size() == 2);
    for (int k = 0; k < 2; ++k)
      CHECK(Qa.levels()[k] == doctest::Approx(Qb.levels()[k]).epsilon(1e-6));
    for (size_t i = 0; i < x.size(); ++i)
      CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-6));
  }

  TEST_CASE("bad input throws") {
    std::vector<float> q(3);
    const std::vector<float> u = {1, 2, 3};
    CHECK_THROWS_AS(lsbq_greedy(u, 5, q), Error);
    CHECK_THROWS_AS(lsbq_greedy(u, 0, q), Error);
    std::vector<float> short_q(2);
    CHECK_THROWS_AS(lsbq_greedy(u, 2, short_q), Error);
    CHECK_THROWS_AS(quantize_groups(u, 2, QuantizerSpec{}), Error);
  }
}
