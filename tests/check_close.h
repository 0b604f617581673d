#pragma once
// check_close / require_close: element-wise comparison of computed values with expected ones
// (golden JSON lists, hand-computed vectors, reference tensors). Element i passes when
//   |got[i] - expected[i]| <= atol + rtol * max(|expected[i]|, floor)
// evaluated in double; NaN never passes. A failure is reported at the caller's line and names
// how many elements differ, and the first of them and the worst one (index, got, expected).
// check_close fails like CHECK (the test case goes on), require_close like REQUIRE. A size
// mismatch, or a shape mismatch when both sides are tensors, always stops the test case.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <source_location>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace qnn::testing {

struct Tolerance {
  double atol = 0.0;
  double rtol = 0.0;
  double floor = 0.0;  // rtol scales max(|expected|, floor)

  // A plain number tol: atol = rtol = tol, i.e. |got - expected| <= tol (1 + |expected|), the
  // bound most tests here use.
  constexpr Tolerance(double tol) : atol(tol), rtol(tol) {}  // NOLINT(google-explicit-constructor)
  constexpr Tolerance(double atol_, double rtol_, double floor_) : atol(atol_), rtol(rtol_), floor(floor_) {}

  static constexpr Tolerance absolute(double atol) { return {atol, 0.0, 0.0}; }
  // rtol relative to max(|expected|, floor): values near 0 compare on the scale `floor`.
  static constexpr Tolerance relative(double rtol, double floor = 0.0) { return {0.0, rtol, floor}; }

  double bound(double expected) const { return atol + rtol * std::max(std::abs(expected), floor); }
};

inline std::ostream& operator<<(std::ostream& os, const Tolerance& t) {
  if (t.atol != 0 || t.rtol == 0)
    os << t.atol << (t.rtol != 0 ? " + " : "");
  if (t.rtol != 0) {
    os << t.rtol << " * ";
    if (t.floor > 0)
      os << "max(|expected|, " << t.floor << ")";
    else
      os << "|expected|";
  }
  return os;
}

// One scalar pair.
inline bool is_close(double got, double expected, const Tolerance& tol) {
  return std::abs(got - expected) <= tol.bound(expected);  // false for NaN
}

// The values of either side, flattened in row-major order: a float tensor, a JSON array (read as
// float32, as tensor_of reads it), a vector of float or double, or a braced list of numbers.
class CloseValues {
 public:
  CloseValues(const Tensor& t) : shape_(t.shape()) {  // NOLINT(google-explicit-constructor)
    const std::vector<float> v = t.to_vector<float>();
    values_.assign(v.begin(), v.end());
  }
  CloseValues(const nlohmann::json& j) {  // NOLINT(google-explicit-constructor)
    const std::vector<float> v = j.get<std::vector<float>>();
    values_.assign(v.begin(), v.end());
  }
  CloseValues(const std::vector<float>& v) : values_(v.begin(), v.end()) {}  // NOLINT
  CloseValues(std::vector<double> v) : values_(std::move(v)) {}              // NOLINT
  CloseValues(std::initializer_list<double> v) : values_(v) {}               // NOLINT

  const std::vector<double>& values() const { return values_; }
  const std::optional<Shape>& shape() const { return shape_; }

 private:
  std::vector<double> values_;
  std::optional<Shape> shape_;  // set for tensors
};

namespace detail {

inline std::string shape_string(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i)
    os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

// Empty when every element passes, else the failure message.
inline std::string close_failure(const CloseValues& got, const CloseValues& expected, const Tolerance& tol,
                                 const std::string& what) {
  const std::string prefix = what.empty() ? "" : what + ": ";
  const std::vector<double>& g = got.values();
  const std::vector<double>& e = expected.values();
  size_t bad = 0, first = 0, worst = 0;
  double worst_excess = -1.0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (is_close(g[i], e[i], tol))
      continue;
    const double excess =
        std::isnan(g[i]) ? std::numeric_limits<double>::infinity() : std::abs(g[i] - e[i]) / tol.bound(e[i]);
    if (bad == 0)
      first = i;
    if (!(excess <= worst_excess)) {
      worst_excess = excess;
      worst = i;
    }
    ++bad;
  }
  if (bad == 0)
    return {};
  std::ostringstream os;
  os.precision(9);
  auto element = [&](const char* label, size_t i) {
    os << "\n  " << label << " element " << i << ": got " << g[i] << ", expected " << e[i] << " (|diff| "
       << std::abs(g[i] - e[i]) << " > " << tol.bound(e[i]) << ")";
  };
  os << prefix << bad << " of " << g.size() << " elements differ by more than " << tol;
  element("first", first);
  if (worst != first)
    element("worst", worst);
  return os.str();
}

// Empty when sizes (and shapes, for two tensors) agree, else the failure message.
inline std::string size_failure(const CloseValues& got, const CloseValues& expected, const std::string& what) {
  const std::string prefix = what.empty() ? "" : what + ": ";
  if (got.shape() && expected.shape() && *got.shape() != *expected.shape())
    return prefix + "shape " + shape_string(*got.shape()) + ", expected " + shape_string(*expected.shape());
  if (got.values().size() != expected.values().size())
    return prefix + std::to_string(got.values().size()) + " elements, expected " +
           std::to_string(expected.values().size());
  return {};
}

}  // namespace detail

// Non-fatal on differing values (like CHECK).
inline void check_close(const CloseValues& got, const CloseValues& expected, const Tolerance& tol,
                        const std::string& what = {},
                        const std::source_location& where = std::source_location::current()) {
  if (const std::string m = detail::size_failure(got, expected, what); !m.empty())
    ADD_FAIL_AT(where.file_name(), static_cast<int>(where.line()), m);
  if (const std::string m = detail::close_failure(got, expected, tol, what); !m.empty())
    ADD_FAIL_CHECK_AT(where.file_name(), static_cast<int>(where.line()), m);
}

// Fatal on differing values (like REQUIRE).
inline void require_close(const CloseValues& got, const CloseValues& expected, const Tolerance& tol,
                          const std::string& what = {},
                          const std::source_location& where = std::source_location::current()) {
  if (const std::string m = detail::size_failure(got, expected, what); !m.empty())
    ADD_FAIL_AT(where.file_name(), static_cast<int>(where.line()), m);
  if (const std::string m = detail::close_failure(got, expected, tol, what); !m.empty())
    ADD_FAIL_AT(where.file_name(), static_cast<int>(where.line()), m);
}

}  // namespace qnn::testing
