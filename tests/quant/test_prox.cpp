// The QAT maps of PARQ (Jin et al., ICML 2025; Sections 2-4): PARQ (Fig. 9(a)) and BinaryRelax
// (Fig. 9(b)) on worked vectors (reference values from an independent re-implementation of the PARQ
// code's formulas), the code's sigmoid inverse-slope schedule, PARQ -> hard as the slope grows,
// monotonicity, the exact PAR prox of Eq. (7) against a numeric argmin and the subgradient
// condition, and a 1-D convex toy for Section 3's point: AProx (Eq. (11)) keeps its last iterate on
// the target, Prox-SGD (Eq. (9)) does not.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/generator.h"
#include "quant/qat/prox_maps.h"
#include "quant/quantizers/lsbq.h"
#include "tests/check_close.h"

using namespace qnn;
using namespace qnn::quant;
using qnn::testing::check_close;
using qnn::testing::Tolerance;

namespace {

const std::vector<float> kP = {-1.3f, -0.6f, -0.2f, 0.0f, 0.1f, 0.45f, 0.9f, 2.1f};

// The 2-bit greedy LSBQ target set of kP: [-1.2515625, -0.1609375, 0.1609375, 1.2515625].
Alphabet lsbq2_of_kP() {
  std::vector<float> q(kP.size());
  return lsbq_greedy(kP, 2, q);
}

// Absolute: |got - want| <= 1e-5.
constexpr Tolerance kTol = Tolerance::absolute(1e-5);

std::vector<float> sorted_inputs(float lo, float hi, int n) {
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i)
    x[i] = lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(n - 1);
  return x;
}

// The toy: PAR (Eq. (6)) with Q = {0, +-0.5, +-1}, a = (0.2, 0.6), lambda = 1.
PAR toy_par() { return PAR{{0.0, 0.5, 1.0}, {0.2, 0.6}}; }

}  // namespace

TEST_SUITE("prox") {
  TEST_CASE("PARQ map at inv = 1, 0.5, 0.25: the worked vectors") {
    const Alphabet Q = lsbq2_of_kP();
    std::vector<float> w(kP.size());
    parq_map(kP, Q, 1.0f, w);
    check_close(w, {-1.2515625, -0.6, -0.2, 0, 0.1, 0.45, 0.9, 1.2515625}, kTol);
    parq_map(kP, Q, 0.5f, w);
    check_close(w, {-1.2515625, -0.49375, -0.1609375, 0, 0.1609375, 0.19375, 1.09375, 1.2515625}, kTol);
    parq_map(kP, Q, 0.25f, w);
    check_close(w, {-1.2515625, -0.28125, -0.1609375, 0, 0.1609375, 0.1609375, 1.2515625, 1.2515625}, kTol);
  }

  TEST_CASE("BinaryRelax at theta = 0.25, 0.5: the worked vectors") {
    const Alphabet Q = lsbq2_of_kP();
    std::vector<float> w(kP.size());
    binaryrelax_map(kP, Q, 0.25f, w);
    check_close(w, {-1.28789, -0.490234, -0.190234, -0.0402344, 0.115234, 0.377734, 0.987891, 1.88789}, kTol);
    binaryrelax_map(kP, Q, 0.5f, w);
    check_close(w, {-1.27578, -0.380469, -0.180469, -0.0804687, 0.130469, 0.305469, 1.07578, 1.67578}, kTol);
  }

  TEST_CASE("the normalized mirror sigmoid at steepness 100, 75, 50 (the PARQ scripts') and 10") {
    // t_s = 0, t_e = 100, so f = t/100. Reference values: the formula evaluated independently.
    struct Row {
      double s;
      std::vector<double> inv;  // at f = 0.25, 0.40, 0.45, 0.48, 0.50, 0.52, 0.55, 0.60, 0.75
    };
    const std::vector<int64_t> ts = {25, 40, 45, 48, 50, 52, 55, 60, 75};
    const std::vector<Row> rows = {
        {100, {1.000, 1.000, 0.9933, 0.8808, 0.5, 0.1192, 0.0067, 4.5e-5, 1.4e-11}},
        {75, {1.000, 0.9994, 0.977, 0.818, 0.5, 0.182, 0.023, 5.5e-4, 7.2e-9}},
        {50, {1.000, 0.9933, 0.924, 0.731, 0.5, 0.269, 0.076, 0.0067, 3.7e-6}},
        {10, {0.930, 0.734, 0.624, 0.551, 0.5, 0.450, 0.376, 0.266, 0.070}},
    };
    for (const Row& r : rows)
      for (size_t i = 0; i < ts.size(); ++i) {
        const double got = parq_inv_slope(ts[i], 0, 100, r.s);
        // The references have 2-4 significant digits (0.450 for 0.44949): compare to one unit of the
        // third decimal, or of the second significant digit for the small entries.
        const double want = r.inv[i];
        const double unit = want >= 0.01 ? 1e-3 : std::pow(10.0, std::floor(std::log10(want)) - 1);
        CHECK_MESSAGE(std::fabs(got - want) <= unit,
                      "s " << r.s << " t " << ts[i] << ": got " << got << ", want " << want);
      }
    CHECK(parq_inv_slope(-1, 0, 100, 100) == 1.0);
    CHECK(parq_inv_slope(0, 0, 100, 100) == doctest::Approx(1.0));
    CHECK(parq_inv_slope(100, 0, 100, 100) == 0.0);  // hard from t_e on
    CHECK(binaryrelax_theta(25, 0, 100) == 0.25);
    CHECK(binaryrelax_theta(150, 0, 100) == 1.0);
  }

  TEST_CASE("PARQ at inv = 1 is clamp(u, Q_0, Q_K-1); at t >= t_e it is the nearest point") {
    const Alphabet Q = lsbq2_of_kP();
    const std::vector<float> x = sorted_inputs(-3.0f, 3.0f, 601);
    std::vector<float> w(x.size()), h(x.size());
    parq_map(x, Q, 1.0f, w);
    for (size_t i = 0; i < x.size(); ++i)
      CHECK(w[i] == std::clamp(x[i], Q.levels().front(), Q.levels().back()));
    ProxMap parq{ProxMap::Kind::parq, 0, 100, 100.0, 0.5};
    parq.apply(x, Q, 100, w);
    hard_quantize(x, Q, h);
    CHECK(w == h);
    ProxMap br{ProxMap::Kind::binaryrelax, 0, 100, 100.0, 0.5};
    br.apply(x, Q, 0, w);
    CHECK(w == x);  // theta = 0: full precision, unclipped
    br.apply(x, Q, 100, w);
    CHECK(w == h);
  }

  TEST_CASE("PARQ tends to hard quantization as the slope grows") {
    const Alphabet Q = lsbq2_of_kP();
    Generator gen(3);
    std::vector<float> x(20000);
    for (float& v : x)
      v = 3.0f * gen.normal();
    std::vector<float> w(x.size()), h(x.size());
    hard_quantize(x, Q, h);
    double previous_dev = 1e9;
    size_t previous_off = x.size() + 1;
    for (float inv : {1.0f, 0.3f, 0.1f, 0.01f, 1e-3f, 1e-5f}) {
      parq_map(x, Q, inv, w);
      double dev = 0.0;
      size_t off = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        dev += std::fabs(w[i] - h[i]);
        off += w[i] != h[i];
      }
      CHECK(dev < previous_dev);
      CHECK(off <= previous_off);
      previous_dev = dev;
      previous_off = off;
    }
    CHECK(previous_off <= 2);  // at inv = 1e-5 only inputs within 1e-5 of a midpoint can differ
  }

  TEST_CASE("every map is monotone non-decreasing") {
    const Alphabet Q = lsbq2_of_kP();
    const std::vector<float> x = sorted_inputs(-3.0f, 3.0f, 2001);
    std::vector<float> w(x.size());
    auto monotone = [&] {
      for (size_t i = 1; i < w.size(); ++i)
        if (w[i] < w[i - 1])
          return false;
      return true;
    };
    hard_quantize(x, Q, w);
    CHECK(monotone());
    for (float inv : {1.0f, 0.5f, 0.1f, 1e-4f}) {
      parq_map(x, Q, inv, w);
      CHECK(monotone());
    }
    for (float theta : {0.0f, 0.3f, 0.9f, 1.0f}) {
      binaryrelax_map(x, Q, theta, w);
      CHECK(monotone());
    }
    const PAR par = toy_par();
    std::vector<double> p;
    for (float v : x)
      p.push_back(prox_par(v, par, 0.7));
    CHECK(std::is_sorted(p.begin(), p.end()));
  }

  TEST_CASE("PAR prox Eq. (7) is the argmin of c Psi(w) + (w - u)^2/2 and meets 0 in its subgradient condition") {
    // a_0 > 0 (0 in Q) and a_0 = 0 (binary-like: 0 not a kink).
    for (const PAR& par : {toy_par(), PAR{{0.0, 0.3, 0.8, 1.5}, {0.0, 0.4, 1.1}}}) {
      par.check();
      Generator gen(17);
      for (int trial = 0; trial < 500; ++trial) {
        const double u = 4.0 * (2.0 * gen.uniform() - 1.0);
        const double c = 0.05 + 2.0 * gen.uniform();
        const double w = prox_par(u, par, c);
        // The objective is convex on [-q_m, q_m]: ternary search finds its minimizer.
        auto objective = [&](double v) { return c * par.value(v) + 0.5 * (v - u) * (v - u); };
        double lo = -par.q.back(), hi = par.q.back();
        for (int it = 0; it < 200; ++it) {
          const double m1 = lo + (hi - lo) / 3.0, m2 = hi - (hi - lo) / 3.0;
          (objective(m1) < objective(m2) ? hi : lo) = objective(m1) < objective(m2) ? m2 : m1;
        }
        CHECK_MESSAGE(std::fabs(w - (lo + hi) / 2.0) < 1e-6, "u " << u << " c " << c);
        // u - w in c dPsi(w)
        double slo = 0.0, shi = 0.0;
        par.subdifferential(w, slo, shi);
        const double g = (u - w) / c;
        CHECK_MESSAGE((g >= slo - 1e-9 && g <= shi + 1e-9), "u " << u << " w " << w << " g " << g);
      }
    }
    // Scaling, Eq. (7) with a_k -> c a_k: flat piece at q_1 = 0.5 for |u| in [c a_0 + q_1, c a_1 + q_1].
    const PAR par = toy_par();
    CHECK(prox_par(0.5 + 2.0 * 0.2 + 1e-9, par, 2.0) == 0.5);
    CHECK(prox_par(0.5 + 2.0 * 0.6 - 1e-9, par, 2.0) == 0.5);
    CHECK(prox_par(0.1, par, 1.0) == 0.0);
    CHECK(prox_par(5.0, par, 1.0) == 1.0);  // clipped at q_m
  }

  TEST_CASE("the 1-D convex toy: deterministic AProx and Prox-SGD both converge to prox(b)") {
    const PAR par = toy_par();
    const std::vector<std::pair<double, double>> cases = {
        {0.35, 0.15}, {0.62, 0.42}, {0.9, 0.5}, {1.4, 0.8}, {-0.75, -0.5}};
    for (const auto& [b, target] : cases) {
      AProx ap{par, 1.0, 0.0, {0.0}};
      std::vector<double> w = {0.0}, g(1);
      double w_sgd = 0.0;
      for (int t = 1; t <= 100000; ++t) {
        const double eta = 0.5 / std::sqrt(static_cast<double>(t));
        g[0] = w[0] - b;  // f(w) = (w - b)^2 / 2
        ap.step(g, eta, w);
        w_sgd = prox_par(w_sgd - eta * (w_sgd - b), par, eta);  // Prox-SGD, Eq. (9)
      }
      CHECK_MESSAGE(std::fabs(w[0] - target) < 1e-6, "b " << b << " AProx " << w[0]);
      CHECK_MESSAGE(std::fabs(w_sgd - target) < 1e-4, "b " << b << " Prox-SGD " << w_sgd);
    }
  }

  TEST_CASE("the 1-D convex toy with noisy gradients: AProx's last iterate stays on the target, Prox-SGD's not") {
    const PAR par = toy_par();
    for (const auto& [b, target] : std::vector<std::pair<double, double>>{{0.9, 0.5}, {0.1, 0.0}, {-0.75, -0.5}}) {
      Generator gen(2024);
      AProx ap{par, 1.0, 0.0, {0.0}};
      std::vector<double> w = {0.0}, g(1);
      double w_sgd = 0.0;
      int on_aprox = 0, on_sgd = 0;
      const int T = 100000;
      for (int t = 1; t <= T; ++t) {
        const double eta = 0.5 / std::sqrt(static_cast<double>(t));
        const double noise_a = 0.5 * gen.normal(), noise_s = 0.5 * gen.normal();
        g[0] = w[0] - b + noise_a;
        ap.step(g, eta, w);
        w_sgd = prox_par(w_sgd - eta * (w_sgd - b + noise_s), par, eta);
        if (t > T - 1000) {
          on_aprox += w[0] == target;
          on_sgd += w_sgd == target;
        }
      }
      MESSAGE("b = " << b << ": AProx on target " << on_aprox / 10.0 << "%, Prox-SGD " << on_sgd / 10.0 << "%");
      CHECK(on_aprox >= 990);
      CHECK(on_sgd <= 500);
    }
  }

  TEST_CASE("bad input throws") {
    const Alphabet Q = lsbq2_of_kP();
    std::vector<float> w(kP.size()), small(2);
    CHECK_THROWS_AS(parq_map(kP, Q, 0.0f, w), Error);
    CHECK_THROWS_AS(binaryrelax_map(kP, Q, 1.5f, w), Error);
    CHECK_THROWS_AS(hard_quantize(kP, Q, small), Error);
    CHECK_THROWS_AS(ProxMap::kind_from_string("lsq"), Error);
    CHECK_THROWS_AS((PAR{{0.0, 0.5}, {0.2, 0.3}}.check()), Error);
  }
}
