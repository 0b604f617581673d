// max_pool2d, avg_pool2d, adaptive_avg_pool2d and pad: forward and input gradients against
// PyTorch golden values (tests/tools/gen_pool.py), hand-worked cases, gradcheck, and input errors.
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

const nlohmann::json& golden() { return qnn::testing::golden_file("pool.json"); }

std::array<int64_t, 2> pair_of(const nlohmann::json& v) { return {v[0].get<int64_t>(), v[1].get<int64_t>()}; }

// Runs every golden case of `family`: y = fn(x, case), then the gradient of x for the case's dy.
template <class F>
void check_family(const char* family, F fn) {
  for (const auto& item : golden()[family].items()) {
    const std::string name = item.key();
    const nlohmann::json& c = item.value();
    CAPTURE(family);
    CAPTURE(name);
    const Shape ys = c["y_shape"].get<Shape>();
    Tensor x = leaf(tensor_of(c["x"], c["x_shape"].get<Shape>()));
    Tensor y = fn(x, c);
    REQUIRE(y.shape() == ys);
    require_close(y, c["y"], 1e-4);
    y.backward(tensor_of(c["dy"], ys));
    require_close(x.grad(), c["dx"], 1e-4);
  }
}

// Distinct values 0.1 apart in a scrambled order (i * 37 mod n is a permutation when 37 does not
// divide n), so finite differences never flip a maximum.
Tensor separated(const Shape& shape) {
  const int64_t n = numel_of(shape);
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i)
    v[i] = static_cast<float>((i * 37) % n) * 0.1f;
  return from_vector<float>(v, shape);
}

}  // namespace

TEST_CASE("max_pool2d matches PyTorch") {
  check_family("max_pool2d", [](const Tensor& x, const nlohmann::json& c) {
    return max_pool2d(x, pair_of(c["kernel"]), pair_of(c["stride"]), pair_of(c["padding"]));
  });
}

TEST_CASE("avg_pool2d matches PyTorch, with and without count_include_pad") {
  check_family("avg_pool2d", [](const Tensor& x, const nlohmann::json& c) {
    return avg_pool2d(x, pair_of(c["kernel"]), pair_of(c["stride"]), pair_of(c["padding"]),
                      c["count_include_pad"].get<bool>());
  });
}

TEST_CASE("adaptive_avg_pool2d matches PyTorch, including uneven bins and outputs larger than the input") {
  check_family("adaptive_avg_pool2d", [](const Tensor& x, const nlohmann::json& c) {
    return adaptive_avg_pool2d(x, pair_of(c["output_size"]));
  });
}

TEST_CASE("pad matches PyTorch's constant F.pad, including negative pads") {
  check_family("pad", [](const Tensor& x, const nlohmann::json& c) {
    return pad(x, c["pads"].get<std::vector<int64_t>>(), c["value"].get<float>());
  });
}

TEST_CASE("max_pool2d by hand: ties go to the first element, NaN wins, padding never wins") {
  Tensor x = leaf(ones({1, 1, 4, 4}));
  Tensor y = max_pool2d(x, {2, 2});
  y.backward(ones({1, 1, 2, 2}));
  // Each window's first (top-left) element receives the gradient.
  CHECK(x.grad().to_vector<float>() == std::vector<float>{1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0});

  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> v = max_pool2d(from_vector<float>({1, nan, 3, 4}, {1, 1, 2, 2}), {2, 2}).to_vector<float>();
  CHECK(std::isnan(v[0]));

  // All-negative input with padding 1: the -inf border never wins.
  const Tensor neg = from_vector<float>({-5, -4, -3, -2}, {1, 1, 2, 2});
  CHECK(max_pool2d(neg, {2, 2}, {1, 1}, {1, 1}).to_vector<float>() ==
        std::vector<float>{-5, -4, -4, -3, -2, -2, -3, -2, -2});
}

TEST_CASE("avg_pool2d and adaptive_avg_pool2d by hand") {
  // 2 x 2 ones, kernel 2, stride 1, padding 1: corners see 1 of 4 elements, edges 2, the centre 4.
  const Tensor x = ones({1, 1, 2, 2});
  CHECK(avg_pool2d(x, {2, 2}, {1, 1}, {1, 1}, true).to_vector<float>() ==
        std::vector<float>{0.25f, 0.5f, 0.25f, 0.5f, 1.0f, 0.5f, 0.25f, 0.5f, 0.25f});
  CHECK(avg_pool2d(x, {2, 2}, {1, 1}, {1, 1}, false).to_vector<float>() == std::vector<float>(9, 1.0f));
  // 7 rows into 3 bins: [0, 3), [2, 5), [4, 7); one column.
  const Tensor r = from_vector<float>({0, 1, 2, 3, 4, 5, 6}, {1, 7, 1});
  CHECK(adaptive_avg_pool2d(r, {3, 1}).to_vector<float>() == std::vector<float>{1.0f, 3.0f, 5.0f});
}

TEST_CASE("pooling a large batch equals pooling each image (the threaded path)") {
  Generator g(31);
  const Tensor x = randn({8, 16, 20, 20}, g);
  const Tensor m = max_pool2d(x, {3, 3}, {2, 2}, {1, 1}), a = avg_pool2d(x, {3, 3}, {2, 2}, {1, 1}, false);
  const Tensor ad = adaptive_avg_pool2d(x, {3, 3});
  for (int64_t n = 0; n < 8; n += 3) {
    const Tensor xn = x.select(0, n);
    CHECK(m.select(0, n).to_vector<float>() == max_pool2d(xn, {3, 3}, {2, 2}, {1, 1}).to_vector<float>());
    CHECK(a.select(0, n).to_vector<float>() == avg_pool2d(xn, {3, 3}, {2, 2}, {1, 1}, false).to_vector<float>());
    CHECK(ad.select(0, n).to_vector<float>() == adaptive_avg_pool2d(xn, {3, 3}).to_vector<float>());
  }
}

TEST_CASE("gradcheck: pooling and pad") {
  GradcheckOptions opt;
  opt.eps = 5e-3;
  Tensor x = leaf(separated({2, 2, 7, 6}));
  CHECK(gradcheck([](auto& v) { return max_pool2d(v[0], {3, 2}, {2, 1}, {1, 1}); }, {x}, opt));
  CHECK(gradcheck([](auto& v) { return avg_pool2d(v[0], {3, 3}, {2, 2}, {1, 1}, true); }, {x}, opt));
  CHECK(gradcheck([](auto& v) { return avg_pool2d(v[0], {2, 3}, {1, 2}, {1, 1}, false); }, {x}, opt));
  CHECK(gradcheck([](auto& v) { return adaptive_avg_pool2d(v[0], {4, 5}); }, {x}, opt));
  CHECK(gradcheck([](auto& v) { return pad(v[0], {2, -1, 0, 3}, 0.5f); }, {x}, opt));
  // A non-contiguous input.
  CHECK(gradcheck([](auto& v) { return max_pool2d(v[0].transpose(2, 3), {2, 2}); }, {x}, opt));
}

TEST_CASE("pad works on integer images and pads nothing when asked for nothing") {
  const Tensor img = from_vector<float>({1, 2, 3, 4}, {1, 2, 2}).to(DType::UInt8);
  const Tensor p = pad(img, {1, 1, 1, 1});
  CHECK(p.dtype() == DType::UInt8);
  CHECK(p.shape() == Shape{1, 4, 4});
  CHECK(p.to(DType::Float32).to_vector<float>() == std::vector<float>{0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0});
  const Tensor x = from_vector<float>({1, 2, 3}, {3});
  CHECK(pad(x, {}).to_vector<float>() == x.to_vector<float>());
}

TEST_CASE("pooling and pad input errors") {
  const Tensor x = zeros({2, 3, 5, 5});
  CHECK_THROWS_AS(max_pool2d(zeros({5, 5}), {2, 2}), qnn::Error);                // wrong dims
  CHECK_THROWS_AS(avg_pool2d(zeros({1, 2, 3, 5, 5}), {2, 2}), qnn::Error);       // wrong dims
  CHECK_THROWS_AS(max_pool2d(x, {0, 2}), qnn::Error);                            // kernel
  CHECK_THROWS_AS(max_pool2d(x, {2, 2}, {-1, 1}), qnn::Error);                   // stride
  CHECK_THROWS_AS(max_pool2d(x, {2, 2}, {2, 2}, {2, 0}), qnn::Error);            // padding > kernel / 2
  CHECK_THROWS_AS(avg_pool2d(x, {6, 2}), qnn::Error);                            // kernel larger than input
  CHECK_THROWS_AS(adaptive_avg_pool2d(x, {0, 1}), qnn::Error);                   // output size
  CHECK_THROWS_AS(adaptive_avg_pool2d(x.to(DType::Int64), {1, 1}), qnn::Error);  // dtype
  CHECK_THROWS_AS(pad(x, {1, 2, 3}), qnn::Error);                                // odd count
  CHECK_THROWS_AS(pad(x, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}), qnn::Error);           // more dims than x
  CHECK_THROWS_AS(pad(x, {-3, -3}), qnn::Error);                                 // crops below zero
  try {
    max_pool2d(x, {2, 2}, {2, 2}, {2, 0});
  } catch (const qnn::Error& e) {
    CHECK(std::string(e.what()).find("max_pool2d") != std::string::npos);
  }
}
