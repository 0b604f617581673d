// Reductions: mean, var, max/min (over a dim and over all), argmax, norm. Forward and gradients
// against PyTorch golden values (tests/tools/gen_reduce_loss.py), ties, hand loops in double on
// large inputs, gradcheck, and input errors.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/check_close.h"
#include "tests/golden.h"
#include "tests/gradcheck.h"

using namespace qnn;
using qnn::testing::gradcheck;
using qnn::testing::GradcheckOptions;
using qnn::testing::leaf;

using qnn::testing::require_close;
using qnn::testing::tensor_of;

namespace {

const nlohmann::json& golden() { return qnn::testing::golden_file("reduce_loss.json"); }

std::vector<int64_t> dims_of(const nlohmann::json& c) {
  return c["dims"].is_null() ? std::vector<int64_t>{} : c["dims"].get<std::vector<int64_t>>();
}

// Runs one golden case: y = fn(x) against c["y"], then x's gradient for dy against c["dx"].
template <class Fn>
void check_golden(const nlohmann::json& c, Fn fn, double tol = 1e-5) {
  Tensor x = leaf(tensor_of(c["x"], c["shape"].get<Shape>()));
  Tensor y = fn(x, c);
  CHECK(y.shape() == c["y_shape"].get<Shape>());
  require_close(y, c["y"], tol);
  y.backward(tensor_of(c["dy"], y.shape()));
  require_close(x.grad(), c["dx"], tol);
}

// randn values pushed at least `gap` away from zero (|x| is not differentiable at 0).
Tensor away_from_zero(const Shape& shape, Generator& g, float gap = 0.2f) {
  std::vector<float> v = randn(shape, g).to_vector<float>();
  for (float& e : v)
    e += e < 0.0f ? -gap : gap;
  return from_vector<float>(v, shape);
}

// Sums over `dims` of a row-major x by hand loops in double; the kept shape's row-major order.
std::vector<double> sum_reference(const std::vector<float>& x, const Shape& shape, const std::vector<int64_t>& dims) {
  Shape kept = shape;
  for (int64_t d : dims)
    kept[d] = 1;
  std::vector<double> out(numel_of(kept), 0.0);
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t rest = static_cast<int64_t>(i), o = 0, step = 1;
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      const int64_t c = rest % shape[d];
      rest /= shape[d];
      if (kept[d] != 1) {
        o += c * step;
        step *= kept[d];
      }
    }
    out[o] += x[i];
  }
  return out;
}

}  // namespace

TEST_CASE("sum and mean equal hand loops in double: rows, column tiles, blocks, strided and scattered dims") {
  Generator g(20);
  struct Case {
    Shape shape;
    std::vector<int64_t> dims;
  };
  const std::vector<Case> cases = {
      {{3, 70000}, {1}},          // rows longer than a chunk
      {{3, 70000}, {0}},          // columns, many tiles
      {{4, 5, 6, 7}, {1, 2}},     // a middle block: [A, K, B]
      {{4, 5, 1, 6, 7}, {1, 3}},  // a block with a size-1 dim inside
      {{4, 5, 6, 7}, {0, 2}},     // scattered dims: the generic loop
      {{2, 3, 1000}, {0, 1, 2}},  // everything
  };
  for (const Case& c : cases) {
    CAPTURE(shape_str(c.shape));
    const Tensor x = add(randn(c.shape, g), 3.0f);
    const std::vector<double> want = sum_reference(x.to_vector<float>(), c.shape, c.dims);
    double count = 1.0;
    for (int64_t d : c.dims)
      count *= static_cast<double>(c.shape[d]);
    const std::vector<float> s = sum(x, c.dims).to_vector<float>(), m = mean(x, c.dims, true).to_vector<float>();
    REQUIRE(s.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      REQUIRE(s[i] == doctest::Approx(want[i]).epsilon(1e-6));
      REQUIRE(m[i] == doctest::Approx(want[i] / count).epsilon(1e-6));
    }
  }
  // A transposed input (the generic loop) is summed as the tensor it shows.
  const Tensor y = randn({5, 8}, g);
  const std::vector<double> want = sum_reference(y.t().contiguous().to_vector<float>(), {8, 5}, {1});
  const std::vector<float> got = sum(y.t(), {1}).to_vector<float>();
  for (size_t i = 0; i < want.size(); ++i)
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-6));
  CHECK(std::isnan(mean(zeros({2, 0}), {1}).to_vector<float>()[0]));
}

TEST_CASE("mean matches PyTorch: all elements and dims, with keepdim") {
  for (const auto& item : golden()["mean"].items()) {
    CAPTURE(item.key());
    check_golden(item.value(), [](const Tensor& x, const nlohmann::json& c) {
      return c["dims"].is_null() ? mean(x) : mean(x, dims_of(c), c["keepdim"].get<bool>());
    });
  }
}

TEST_CASE("var matches PyTorch: corrections 0, 1, 2, keepdim, a large mean") {
  for (const auto& item : golden()["var"].items()) {
    CAPTURE(item.key());
    if (item.key() == "large_mean")
      continue;  // below: torch's own float rounding of the mean shows in its gradient
    check_golden(item.value(), [](const Tensor& x, const nlohmann::json& c) {
      return var(x, dims_of(c), c["correction"].get<int64_t>(), c["keepdim"].get<bool>());
    });
  }
  // Rows of mean 1000 and std 3: the forward against torch, the gradient 2 (x - mean) / (K - 1) * dy
  // against double loops (torch's float mean is off by up to half an ulp of 1000, which moves its
  // gradient by ~1e-5).
  const nlohmann::json& c = golden()["var"]["large_mean"];
  Tensor x = leaf(tensor_of(c["x"], {7, 9}));
  Tensor y = var(x, {1}, 1, true);
  require_close(y, c["y"], 1e-5);
  const std::vector<float> dy = c["dy"].get<std::vector<float>>(), xv = c["x"].get<std::vector<float>>();
  y.backward(from_vector<float>(dy, {7, 1}));
  const std::vector<float> dx = x.grad().to_vector<float>();
  for (int64_t r = 0; r < 7; ++r) {
    double m = 0.0;
    for (int64_t i = 0; i < 9; ++i)
      m += xv[r * 9 + i] / 9.0;
    for (int64_t i = 0; i < 9; ++i) {
      const double want = 2.0 * (xv[r * 9 + i] - m) / 8.0 * dy[r];
      CHECK(std::abs(dx[r * 9 + i] - want) <= 1e-5 * (1.0 + std::abs(want)));
    }
  }
}

TEST_CASE("max and min over a dim match PyTorch: values, first indices of ties, gradients") {
  for (const char* kind : {"max_dim", "min_dim"}) {
    for (const auto& item : golden()[kind].items()) {
      const nlohmann::json& c = item.value();
      CAPTURE(kind);
      CAPTURE(item.key());
      Tensor x = leaf(tensor_of(c["x"], c["shape"].get<Shape>()));
      const int64_t dim = c["dim"].get<int64_t>();
      const bool keepdim = c["keepdim"].get<bool>();
      const ValuesIndices r = std::string(kind) == "max_dim" ? max(x, dim, keepdim) : min(x, dim, keepdim);
      CHECK(r.values.shape() == c["y_shape"].get<Shape>());
      CHECK(r.indices.shape() == c["y_shape"].get<Shape>());
      CHECK(r.indices.dtype() == DType::Int64);
      CHECK(r.values.to_vector<float>() == c["values"].get<std::vector<float>>());
      CHECK(r.indices.to_vector<int64_t>() == c["indices"].get<std::vector<int64_t>>());
      r.values.backward(tensor_of(c["dy"], r.values.shape()));
      CHECK(x.grad().to_vector<float>() == c["dx"].get<std::vector<float>>());
    }
  }
}

TEST_CASE("max and min over all elements match PyTorch: the gradient is shared by ties") {
  for (const char* kind : {"max_all", "min_all"})
    for (const auto& item : golden()[kind].items()) {
      CAPTURE(kind);
      check_golden(item.value(), [kind](const Tensor& x, const nlohmann::json&) {
        return std::string(kind) == "max_all" ? max(x) : min(x);
      });
    }
}

TEST_CASE("argmax matches PyTorch (first index of ties)") {
  for (const auto& item : golden()["argmax"].items()) {
    const nlohmann::json& c = item.value();
    CAPTURE(item.key());
    const Tensor x = tensor_of(c["x"], c["shape"].get<Shape>());
    const Tensor idx = argmax(x, c["dim"].get<int64_t>(), c["keepdim"].get<bool>());
    CHECK(idx.shape() == c["y_shape"].get<Shape>());
    CHECK(idx.to_vector<int64_t>() == c["indices"].get<std::vector<int64_t>>());
  }
}

TEST_CASE("norm matches PyTorch: p = 1, 2, infinity (ties share the gradient), all elements and dims") {
  for (const auto& item : golden()["norm"].items()) {
    CAPTURE(item.key());
    check_golden(item.value(), [](const Tensor& x, const nlohmann::json& c) {
      const float p = c["p"].is_string() ? INFINITY : c["p"].get<float>();
      return c["dims"].is_null() ? norm(x, p) : norm(x, p, dims_of(c), c["keepdim"].get<bool>());
    });
  }
}

TEST_CASE("max/min over a dim: ties send the gradient to the first index; NaN wins") {
  Tensor x = leaf(from_vector<float>({1, 3, 3, 2, 2, 0}, {2, 3}));
  ValuesIndices mx = max(x, 1);
  CHECK(mx.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  mx.values.backward(from_vector<float>({5, 7}, {2}));
  CHECK(x.grad().to_vector<float>() == std::vector<float>{0, 5, 0, 7, 0, 0});
  Tensor y = leaf(from_vector<float>({4, 1, 0, 0, 0, 9}, {3, 2}));
  ValuesIndices mn = min(y, 0, true);
  CHECK(mn.values.shape() == Shape{1, 2});
  CHECK(mn.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 1});
  mn.values.backward(from_vector<float>({2, 3}, {1, 2}));
  CHECK(y.grad().to_vector<float>() == std::vector<float>{0, 0, 2, 3, 0, 0});
  // torch: the first NaN of a row is its max and its min.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor z = from_vector<float>({1, nan, 5, nan, 2, 3}, {2, 3});
  CHECK(max(z, 1).indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  CHECK(min(z, 1).indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  CHECK(std::isnan(max(z).item()));
  CHECK(std::isnan(norm(z, INFINITY).item()));
  // Long rows (the vectorized scan): ties at 300 and 700, then NaNs at 500 and 800.
  std::vector<float> row(1000, 0.0f);
  row[300] = row[700] = 4.0f;
  row[100] = row[900] = -4.0f;
  CHECK(argmax(from_vector<float>(row, {1, 1000}), 1).to_vector<int64_t>() == std::vector<int64_t>{300});
  CHECK(min(from_vector<float>(row, {1000}), 0).indices.to_vector<int64_t>() == std::vector<int64_t>{100});
  row[500] = row[800] = nan;
  const ValuesIndices rn = max(from_vector<float>(row, {1000}), 0);
  CHECK(rn.indices.to_vector<int64_t>() == std::vector<int64_t>{500});
  CHECK(std::isnan(rn.values.item()));
  // A strided input: columns of a transposed tensor, and a 0-d input.
  Tensor w = from_vector<float>({1, 8, 3, 2, 9, 9}, {3, 2}).t();  // [[1, 3, 9], [8, 2, 9]]
  CHECK(argmax(w, 1).to_vector<int64_t>() == std::vector<int64_t>{2, 2});
  CHECK(argmax(w, 0).to_vector<int64_t>() == std::vector<int64_t>{1, 0, 0});
  CHECK(max(scalar_tensor(2.5f), 0).values.item() == 2.5f);
}

TEST_CASE("reductions over large inputs equal hand loops in double, whatever the thread count") {
  Generator g(21);
  // 3 x 70000: rows longer than one chunk of the row reduction; a large mean for var.
  Tensor x = add(randn({3, 70000}, g), 50.0f);
  const std::vector<float> xv = x.to_vector<float>();
  std::vector<double> m(3, 0.0), v(3, 0.0), l1(3, 0.0), l2(3, 0.0), li(3, 0.0);
  for (int64_t r = 0; r < 3; ++r) {
    for (int64_t i = 0; i < 70000; ++i) {
      const double e = xv[r * 70000 + i];
      m[r] += e;
      l1[r] += std::abs(e);
      l2[r] += e * e;
      li[r] = std::max(li[r], std::abs(e));
    }
    m[r] /= 70000.0;
    for (int64_t i = 0; i < 70000; ++i)
      v[r] += (xv[r * 70000 + i] - m[r]) * (xv[r * 70000 + i] - m[r]);
    v[r] /= 69999.0;
  }
  const int before = num_threads();
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    const std::vector<float> mv = mean(x, {1}).to_vector<float>(), vv = var(x, {1}).to_vector<float>();
    const std::vector<float> n1 = norm(x, 1.0f, {1}).to_vector<float>(), n2 = norm(x, 2.0f, {1}).to_vector<float>();
    const std::vector<float> ni = norm(x, INFINITY, {1}).to_vector<float>();
    for (int64_t r = 0; r < 3; ++r) {
      CHECK(mv[r] == doctest::Approx(m[r]).epsilon(1e-6));
      CHECK(vv[r] == doctest::Approx(v[r]).epsilon(1e-5));
      CHECK(n1[r] == doctest::Approx(l1[r]).epsilon(1e-6));
      CHECK(n2[r] == doctest::Approx(std::sqrt(l2[r])).epsilon(1e-6));
      CHECK(ni[r] == static_cast<float>(li[r]));
    }
    double all = 0.0;
    for (int64_t r = 0; r < 3; ++r)
      all += l2[r];
    CHECK(norm(x).item() == doctest::Approx(std::sqrt(all)).epsilon(1e-6));
    const float vall = var(x, {0, 1}).item();
    runs.push_back({vall, norm(x).item(), max(x).item(), min(x).item()});
    runs.back().insert(runs.back().end(), vv.begin(), vv.end());
  }
  set_num_threads(before);
  CHECK(runs[0] == runs[1]);
}

TEST_CASE("gradcheck: mean and var over dims, keepdim, corrections, strided input") {
  Generator g(22);
  Tensor x = leaf(randn({3, 4, 5}, g));
  CHECK(gradcheck([](auto& v) { return mean(v[0]); }, {x}));
  CHECK(gradcheck([](auto& v) { return mean(v[0], {1}); }, {x}));
  CHECK(gradcheck([](auto& v) { return mean(v[0], {0, 2}, true); }, {x}));
  CHECK(gradcheck([](auto& v) { return var(v[0], {2}); }, {x}));
  CHECK(gradcheck([](auto& v) { return var(v[0], {0, 1, 2}, 0); }, {x}));
  CHECK(gradcheck([](auto& v) { return var(v[0], {0, 2}, 2, true); }, {x}));
  CHECK(gradcheck([](auto& v) { return var(v[0].transpose(0, 2), {-1}, 1, true); }, {x}));
}

TEST_CASE("gradcheck: max/min over a dim and over all, norm p = 1, 2, infinity") {
  Generator g(23);
  Tensor x = leaf(randn({3, 4, 5}, g));
  CHECK(gradcheck([](auto& v) { return max(v[0], 1).values; }, {x}));
  CHECK(gradcheck([](auto& v) { return min(v[0], -1, true).values; }, {x}));
  CHECK(gradcheck([](auto& v) { return max(v[0].transpose(0, 1), 2).values; }, {x}));
  CHECK(gradcheck([](auto& v) { return max(v[0]); }, {x}));
  CHECK(gradcheck([](auto& v) { return min(v[0]); }, {x}));
  Tensor a = leaf(away_from_zero({3, 4, 5}, g));
  for (float p : {1.0f, 2.0f, INFINITY}) {
    CAPTURE(p);
    CHECK(gradcheck([p](auto& v) { return norm(v[0], p); }, {a}));
    CHECK(gradcheck([p](auto& v) { return norm(v[0], p, {1}); }, {a}));
    CHECK(gradcheck([p](auto& v) { return norm(v[0], p, {0, 2}, true); }, {a}));
    CHECK(gradcheck([p](auto& v) { return norm(v[0].transpose(1, 2), p, {-1}); }, {a}));
  }
  // The 2-norm of zeros has gradient 0 (torch's choice at the kink).
  Tensor z = leaf(zeros({2, 3}));
  norm(z, 2.0f, {1}).backward(ones({2}));
  CHECK(z.grad().to_vector<float>() == std::vector<float>(6, 0.0f));
}

TEST_CASE("reductions reject bad inputs") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH_AS(mean(x, {2}), doctest::Contains("mean: dimension 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(var(x, {0, -2}), doctest::Contains("var: got dimension 0 twice"), Error);
  CHECK_THROWS_WITH_AS(var(x, {1}, -1), doctest::Contains("var: got correction -1 (expected >= 0)"), Error);
  CHECK_THROWS_WITH_AS(max(zeros({2, 0}), 1), doctest::Contains("max: got input of shape [2, 0] reduced over"), Error);
  CHECK_THROWS_WITH_AS(min(zeros({0})), doctest::Contains("min: got an empty input"), Error);
  CHECK_THROWS_WITH_AS(argmax(x.to(DType::Int64), 1), doctest::Contains("argmax: got dtype int64 (expected float32)"),
                       Error);
  CHECK_THROWS_WITH_AS(norm(x, 3.0f), doctest::Contains("norm: got p = 3 (expected 1, 2 or INFINITY)"), Error);
  CHECK_THROWS_WITH_AS(norm(zeros({0}), INFINITY), doctest::Contains("norm: got the infinity norm of an empty"), Error);
  CHECK_THROWS_WITH_AS(max(x, -3), doctest::Contains("max: dimension -3 is out of range"), Error);
}
