// quant/quantizers/alphabet and step_size: the alphabets of the GPFQ papers against hand-worked
// values, ties included (P2 (5)-(6) closed forms), and the per-layer step size P2 (31)-(32).
#include <doctest/doctest.h>

#include <vector>

#include "core/creation.h"
#include "core/error.h"
#include "quant/quantizers/alphabet.h"
#include "quant/quantizers/step_size.h"

using namespace qnn;
using namespace qnn::quant;

TEST_CASE("midtread alphabet: levels and P2 (5) rounding with its ties") {
  const Alphabet a = Alphabet::midtread(2, 0.5f);  // {-1, -0.5, 0, 0.5, 1}
  CHECK(a.levels() == std::vector<float>{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f});
  CHECK(a.nearest(0.25f) == 0.5f);   // floor(0.5 + 0.5) = 1: +delta/2 goes up
  CHECK(a.nearest(-0.25f) == 0.0f);  // floor(-0.5 + 0.5) = 0: -delta/2 goes to 0
  CHECK(a.nearest(0.74f) == 0.5f);
  CHECK(a.nearest(0.75f) == 1.0f);    // tie -> up
  CHECK(a.nearest(-0.75f) == -0.5f);  // tie -> toward +infinity
  CHECK(a.nearest(-0.76f) == -1.0f);
  CHECK(a.nearest(3.0f) == 1.0f);  // clipped at K delta
  CHECK(a.nearest(-3.0f) == -1.0f);
  CHECK(a.code(0.0f) == 2);
  CHECK(a.bits_per_code() == 3);
  CHECK(Alphabet::midtread(8, 0.1f).size() == 17);  // "4 bits" = 2^4 + 1 levels (K = 2^(b-1), P2 (31))
  CHECK(Alphabet::midtread(8, 0.1f).bits_per_code() == 5);
}

TEST_CASE("P1 midrise and midrise+0 alphabets") {
  const Alphabet r = Alphabet::midrise(2, 1.0f);  // {-1.5, -0.5, 0.5, 1.5}
  CHECK(r.levels() == std::vector<float>{-1.5f, -0.5f, 0.5f, 1.5f});
  CHECK(r.nearest(0.0f) == 0.5f);  // tie between -0.5 and 0.5 -> up
  CHECK(r.nearest(-0.1f) == -0.5f);
  CHECK(r.nearest(1.0f) == 1.5f);
  CHECK(r.nearest(-9.0f) == -1.5f);
  const Alphabet z = Alphabet::midrise_zero(2, 1.0f);  // {-1.5, -0.5, 0, 0.5, 1.5}
  CHECK(z.levels() == std::vector<float>{-1.5f, -0.5f, 0.0f, 0.5f, 1.5f});
  CHECK(z.nearest(0.25f) == 0.5f);   // tie -> up
  CHECK(z.nearest(-0.25f) == 0.0f);  // tie -> up
  CHECK(z.nearest(-0.3f) == -0.5f);
  CHECK(Alphabet::binary(2.0f).levels() == std::vector<float>{-1.0f, 1.0f});
  CHECK(Alphabet::ternary(0.5f).levels() == std::vector<float>{-0.5f, 0.0f, 0.5f});
}

TEST_CASE("thresholded alphabet of hard-threshold sparse GPFQ, P2 (4) and (6)") {
  const Alphabet a = Alphabet::thresholded(1, 0.5f, 0.25f);  // {0} u {+-0.25, +-0.75}
  CHECK(a.levels() == std::vector<float>{-0.75f, -0.25f, 0.0f, 0.25f, 0.75f});
  CHECK(a.nearest(0.25f) == 0.0f);  // |z| <= lambda -> 0
  CHECK(a.nearest(-0.25f) == 0.0f);
  CHECK(a.nearest(0.26f) == 0.25f);   // s = 0.01 -> k = 0 -> lambda
  CHECK(a.nearest(0.5f) == 0.75f);    // s = +delta/2: floor(1) = 1 -> lambda + delta
  CHECK(a.nearest(-0.5f) == -0.25f);  // s = -delta/2: floor(0) = 0 -> -lambda
  CHECK(a.nearest(-0.51f) == -0.75f);
  CHECK(a.nearest(5.0f) == 0.75f);
  // lambda = 0 is the midtread alphabet.
  CHECK(Alphabet::thresholded(2, 0.5f, 0.0f).levels() == Alphabet::midtread(2, 0.5f).levels());
  CHECK(Alphabet::thresholded(2, 0.5f, 0.0f).nearest(-0.25f) == 0.0f);
}

TEST_CASE("arbitrary alphabets: sorted, unique, ties to the lower level") {
  const Alphabet a = Alphabet::from_levels({2.0f, -1.0f, 0.5f, 0.5f});
  CHECK(a.levels() == std::vector<float>{-1.0f, 0.5f, 2.0f});
  CHECK(a.nearest(-0.25f) == -1.0f);  // midpoint -> lower
  CHECK(a.nearest(1.25f) == 0.5f);
  CHECK(a.nearest(1.26f) == 2.0f);
  CHECK(a.index_of(0.5f) == 1);
  CHECK(a.index_of(0.4f) == -1);
  CHECK_THROWS_AS(Alphabet::from_levels({}), Error);
  CHECK_THROWS_AS(Alphabet::midtread(0, 1.0f), Error);
  CHECK_THROWS_AS(Alphabet::midtread(2, 0.0f), Error);
}

TEST_CASE("step size: P2 (31)-(32) and P1 (17)-(19) from the mean of the neurons' max |w|") {
  const Tensor W = from_vector<float>({1.0f, -2.0f, 0.5f, 0.25f}, {2, 2});  // ||W_j||_inf = 2, 0.5
  CHECK(mean_row_max_abs(W) == doctest::Approx(1.25));
  AlphabetSpec spec;
  spec.bits = 2;
  spec.C = 1.2;  // R = 1.5
  const auto a = fit_alphabets(W, spec);
  REQUIRE(a.size() == 1);
  CHECK(a[0].K() == 2);
  CHECK(a[0].delta() == doctest::Approx(0.75));  // R / 2^(b-1)
  CHECK(a[0].max_level() == doctest::Approx(1.5));
  spec.family = AlphabetFamily::midrise_zero;  // delta = 2R / (2^b - 1) = 1, top level (K - 1/2) delta = R
  CHECK(fit_alphabets(W, spec)[0].delta() == doctest::Approx(1.0));
  CHECK(fit_alphabets(W, spec)[0].max_level() == doctest::Approx(1.5));
  spec.family = AlphabetFamily::ternary;
  CHECK(fit_alphabets(W, spec)[0].levels() == std::vector<float>{-1.5f, 0.0f, 1.5f});
  spec.family = AlphabetFamily::midtread;
  spec.per_channel = true;  // R_j = C ||W_j||_inf
  const auto pc = fit_alphabets(W, spec);
  REQUIRE(pc.size() == 2);
  CHECK(pc[0].max_level() == doctest::Approx(2.4));
  CHECK(pc[1].max_level() == doctest::Approx(0.6));
}

TEST_CASE("step size: bad input is a clear error") {
  const Tensor W = from_vector<float>({1.0f, -2.0f}, {1, 2});
  AlphabetSpec spec;
  spec.bits = 0;
  CHECK_THROWS_WITH_AS(fit_alphabets(W, spec), doctest::Contains("bits = 0"), Error);
  spec.bits = 4;
  spec.C = 0;
  CHECK_THROWS_WITH_AS(fit_alphabets(W, spec), doctest::Contains("C = 0"), Error);
  spec.C = -1;
  CHECK_THROWS_AS(fit_alphabets(W, spec), Error);
  spec.C = 1;
  CHECK_THROWS_WITH_AS(fit_alphabets(from_vector<float>({0.0f, 0.0f}, {1, 2}), spec), doctest::Contains("all zeros"),
                       Error);
}
