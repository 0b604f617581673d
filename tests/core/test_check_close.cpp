// tests/check_close.h: the bound of each tolerance form at its edge, NaN, the failure messages
// (count, first and worst element, size and shape), and passing comparisons of every pairing.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/creation.h"
#include "tests/check_close.h"

using namespace qnn;
using qnn::testing::check_close;
using qnn::testing::CloseValues;
using qnn::testing::is_close;
using qnn::testing::require_close;
using qnn::testing::Tolerance;
namespace detail = qnn::testing::detail;

TEST_CASE("check_close: each tolerance form at the edge of its bound") {
  // A plain tol: tol (1 + |expected|).
  CHECK(is_close(2.0 + 2.9e-4, 2.0, 1e-4));
  CHECK_FALSE(is_close(2.0 + 3.1e-4, 2.0, 1e-4));
  CHECK(is_close(-2.0 - 2.9e-4, -2.0, 1e-4));
  // Absolute: tol alone.
  CHECK(is_close(100.0 + 0.9e-5, 100.0, Tolerance::absolute(1e-5)));
  CHECK_FALSE(is_close(100.0 + 1.1e-5, 100.0, Tolerance::absolute(1e-5)));
  // Relative with a floor of 1: rtol max(|expected|, 1).
  const Tolerance rel = Tolerance::relative(1e-6, 1.0);
  CHECK(is_close(0.9e-6, 0.0, rel));
  CHECK_FALSE(is_close(1.1e-6, 0.0, rel));
  CHECK(is_close(1000.0 + 0.9e-3, 1000.0, rel));
  CHECK_FALSE(is_close(1000.0 + 1.1e-3, 1000.0, rel));
  // atol plus rtol without a floor.
  CHECK(is_close(0.5e-15, 0.0, Tolerance(1e-15, 1e-6, 0.0)));
  CHECK_FALSE(is_close(2e-15, 0.0, Tolerance(1e-15, 1e-6, 0.0)));
}

TEST_CASE("check_close: NaN never passes") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(is_close(nan, 1.0, 1e3));
  CHECK_FALSE(is_close(1.0, nan, 1e3));
  const std::string m = detail::close_failure(std::vector<double>{1.0, nan, 3.0, 9.0}, {1.0, 2.0, 3.0, 4.0}, 1e-3, "");
  CHECK(m.find("2 of 4 elements differ") != std::string::npos);
  CHECK(m.find("first element 1: got nan") != std::string::npos);
  CHECK(m.find("worst element") == std::string::npos);  // the NaN is the first and the worst
}

TEST_CASE("check_close: the failure message names the count, the first and the worst element") {
  const std::string m =
      detail::close_failure(std::vector<float>{1.0f, 2.01f, 3.0f, 5.0f}, {1.0, 2.0, 3.0, 4.0}, 1e-3, "dx");
  CAPTURE(m);
  CHECK(m.find("dx: 2 of 4 elements differ by more than 0.001 + 0.001 * |expected|") == 0);
  CHECK(m.find("first element 1: got 2.00999999, expected 2 (|diff| ") != std::string::npos);
  CHECK(m.find("worst element 3: got 5, expected 4 (|diff| 1 > 0.005)") != std::string::npos);
  CHECK(detail::close_failure({1.0, 2.0}, {1.0, 2.0}, 0.0, "").empty());
  const std::string a = detail::close_failure({1.0}, {1.5}, Tolerance::absolute(0.1), "");
  CHECK(a.find("by more than 0.1\n") != std::string::npos);
  const std::string r = detail::close_failure({1.0}, {1.5}, Tolerance::relative(0.1, 1.0), "");
  CHECK(r.find("by more than 0.1 * max(|expected|, 1)\n") != std::string::npos);
}

TEST_CASE("check_close: sizes must agree, and shapes when both sides are tensors") {
  CHECK(detail::size_failure({1.0, 2.0}, {1.0}, "y") == "y: 2 elements, expected 1");
  const Tensor a = zeros({2, 3}), b = zeros({3, 2});
  CHECK(detail::size_failure(a, b, "") == "shape [2, 3], expected [3, 2]");
  CHECK(detail::size_failure(a, std::vector<float>(6, 0.0f), "").empty());
  CHECK(detail::size_failure(a, zeros({2, 3}), "").empty());
}

TEST_CASE("check_close: every pairing of tensor, JSON, float and double vectors, braced lists") {
  const Tensor t = from_vector<float>({0.1f, -2.0f, 3.5f}, {3});
  const nlohmann::json j = nlohmann::json::array({0.1, -2.0, 3.5});
  CHECK(CloseValues(j).values()[0] == static_cast<double>(0.1f));  // read as float32
  check_close(t, j, 0.0);
  require_close(t, j, 0.0);
  check_close(t, from_vector<float>({0.1f, -2.0f, 3.5f}, {3}), 0.0);
  check_close(t, std::vector<float>{0.1f, -2.0f, 3.5f}, 0.0);
  check_close(t, std::vector<double>{0.1, -2.0, 3.5}, 1e-7);
  check_close(t, {0.1, -2, 3.5}, 1e-7);
  check_close(t.to_vector<float>(), {0.1, -2, 3.5}, Tolerance::absolute(1e-7), "braced");
}
