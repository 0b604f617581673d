// Comparisons, where, maximum and minimum: hand-worked values with broadcasting, gradients (ties
// split evenly), and input errors.
#include <doctest/doctest.h>

#include <vector>

#include "core/ops.h"
#include "tests/gradcheck.h"

using namespace qnn;
using qnn::testing::gradcheck;
using qnn::testing::leaf;

namespace {
Tensor mat(const std::vector<float>& v, const Shape& shape) { return from_vector<float>(v, shape); }
std::vector<uint8_t> bytes(const Tensor& t) { return t.to_vector<uint8_t>(); }
}  // namespace

TEST_CASE("comparisons give uint8 masks with broadcasting") {
  Tensor a = mat({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = mat({2, 2, 5}, {3});
  CHECK(lt(a, b).dtype() == DType::UInt8);
  CHECK(bytes(eq(a, b)) == std::vector<uint8_t>{0, 1, 0, 0, 0, 0});
  CHECK(bytes(ne(a, b)) == std::vector<uint8_t>{1, 0, 1, 1, 1, 1});
  CHECK(bytes(lt(a, b)) == std::vector<uint8_t>{1, 0, 1, 0, 0, 0});
  CHECK(bytes(le(a, b)) == std::vector<uint8_t>{1, 1, 1, 0, 0, 0});
  CHECK(bytes(gt(a, b)) == std::vector<uint8_t>{0, 0, 0, 1, 1, 1});
  CHECK(bytes(ge(a, b)) == std::vector<uint8_t>{0, 1, 0, 1, 1, 1});
  CHECK(bytes(gt(a, 3.5f)) == std::vector<uint8_t>{0, 0, 0, 1, 1, 1});
  CHECK(bytes(eq(a.t(), 4.0f)) == std::vector<uint8_t>{0, 1, 0, 0, 0, 0});  // a.t() = [[1,4],[2,5],[3,6]]
  CHECK(bytes(lt(a, 2.0f)) == std::vector<uint8_t>{1, 0, 0, 0, 0, 0});
}

TEST_CASE("where selects and routes gradients") {
  Tensor a = leaf(mat({1, 2, 3, 4}, {2, 2}));
  Tensor b = leaf(mat({-1, -2}, {2}));
  Tensor cond = gt(mat({1, 0, 0, 1}, {2, 2}), 0.5f);
  Tensor y = where(cond, a, b);
  CHECK(y.to_vector<float>() == std::vector<float>{1, -2, -1, 4});
  sum(y).backward();
  CHECK(a.grad().to_vector<float>() == std::vector<float>{1, 0, 0, 1});
  CHECK(b.grad().to_vector<float>() == std::vector<float>{1, 1});  // b broadcast over rows: summed
  CHECK(gradcheck([&](const std::vector<Tensor>& in) { return where(cond, in[0], in[1]); },
                  {leaf(randn({2, 2})), leaf(randn({2}))}));
}

TEST_CASE("maximum and minimum split the gradient evenly on ties") {
  Tensor a = leaf(mat({1, 5, 3}, {3}));
  Tensor b = leaf(mat({2, 4, 3}, {3}));
  Tensor hi = maximum(a, b);
  CHECK(hi.to_vector<float>() == std::vector<float>{2, 5, 3});
  CHECK(minimum(a, b).to_vector<float>() == std::vector<float>{1, 4, 3});
  sum(hi).backward();
  CHECK(a.grad().to_vector<float>() == std::vector<float>{0, 1, 0.5f});
  CHECK(b.grad().to_vector<float>() == std::vector<float>{1, 0, 0.5f});
  a.zero_grad();
  b.zero_grad();
  sum(minimum(a, b)).backward();
  CHECK(a.grad().to_vector<float>() == std::vector<float>{1, 0, 0.5f});
  CHECK(b.grad().to_vector<float>() == std::vector<float>{0, 1, 0.5f});
  Generator gen(3);
  CHECK(gradcheck([](const std::vector<Tensor>& in) { return maximum(in[0], in[1]); },
                  {leaf(randn({3, 4}, gen)), leaf(randn({4}, gen))}));
  CHECK(gradcheck([](const std::vector<Tensor>& in) { return minimum(in[0], in[1]); },
                  {leaf(randn({3, 1}, gen)), leaf(randn({3, 4}, gen))}));
}

TEST_CASE("comparisons and where reject bad input") {
  CHECK_THROWS_WITH_AS(lt(ones({2}), ones({3})), doctest::Contains("lt:"), Error);
  CHECK_THROWS_AS(eq(arange(3), ones({3})), Error);  // int64
  CHECK_THROWS_WITH_AS(where(ones({2}), ones({2}), ones({2})),
                       doctest::Contains("where: got a condition of dtype float32 (expected uint8"), Error);
  CHECK_THROWS_AS(where(gt(ones({3}), 0.0f), ones({2}), ones({2})), Error);
  CHECK_THROWS_AS(maximum(ones({2, 2}), ones({3})), Error);
}
