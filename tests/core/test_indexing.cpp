// cat, stack, index_select, gather, one_hot, masked_fill: hand-worked values, gradcheck, errors.
#include <doctest/doctest.h>

#include <vector>

#include "core/ops.h"
#include "tests/gradcheck.h"

using namespace qnn;
using qnn::testing::gradcheck;
using qnn::testing::leaf;

namespace {
Tensor idx(const std::vector<int64_t>& v, const Shape& shape) { return from_vector<int64_t>(v, shape); }
Tensor idx(const std::vector<int64_t>& v) { return idx(v, {static_cast<int64_t>(v.size())}); }
Tensor mat(const std::vector<float>& v, const Shape& shape) { return from_vector<float>(v, shape); }
}  // namespace

TEST_CASE("cat joins along a dimension") {
  Tensor a = mat({1, 2, 3, 4}, {2, 2}), b = mat({5, 6}, {1, 2}), c = mat({7, 8}, {2, 1});
  Tensor r0 = cat({a, b}, 0);
  CHECK(r0.shape() == Shape{3, 2});
  CHECK(r0.to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6});
  Tensor r1 = cat({a, c}, -1);
  CHECK(r1.shape() == Shape{2, 3});
  CHECK(r1.to_vector<float>() == std::vector<float>{1, 2, 7, 3, 4, 8});
  // Non-contiguous inputs and int64 tensors.
  CHECK(cat({a.t(), c}, 1).to_vector<float>() == std::vector<float>{1, 3, 7, 2, 4, 8});
  CHECK(cat({idx({1, 2}), idx({3})}).to_vector<int64_t>() == std::vector<int64_t>{1, 2, 3});
}

TEST_CASE("stack adds a new dimension") {
  Tensor a = mat({1, 2, 3}, {3}), b = mat({4, 5, 6}, {3});
  Tensor s0 = stack({a, b});
  CHECK(s0.shape() == Shape{2, 3});
  CHECK(s0.to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6});
  Tensor s1 = stack({a, b}, 1);
  CHECK(s1.shape() == Shape{3, 2});
  CHECK(s1.to_vector<float>() == std::vector<float>{1, 4, 2, 5, 3, 6});
  CHECK(stack({a, b}, -1).shape() == Shape{3, 2});
}

TEST_CASE("index_select picks rows, columns, repeats") {
  Tensor x = mat({1, 2, 3, 4, 5, 6}, {3, 2});
  CHECK(index_select(x, 0, idx({2, 0, 2})).to_vector<float>() == std::vector<float>{5, 6, 1, 2, 5, 6});
  Tensor c = index_select(x, 1, idx({1}));
  CHECK(c.shape() == Shape{3, 1});
  CHECK(c.to_vector<float>() == std::vector<float>{2, 4, 6});
  CHECK(index_select(x.t(), 1, idx({1})).to_vector<float>() == std::vector<float>{3, 4});
  CHECK(index_select(idx({10, 20, 30}), 0, idx({2, 2})).to_vector<int64_t>() == std::vector<int64_t>{30, 30});
}

TEST_CASE("gather picks per position along a dimension") {
  Tensor x = mat({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(gather(x, 1, idx({2, 0, 1, 1}, {2, 2})).to_vector<float>() == std::vector<float>{3, 1, 5, 5});
  CHECK(gather(x, 0, idx({1, 0, 1}, {1, 3})).to_vector<float>() == std::vector<float>{4, 2, 6});
  CHECK(gather(x, 1, idx({2, 0}, {2, 1})).to_vector<float>() == std::vector<float>{3, 4});
  // Non-contiguous input: x.t() is [3, 2] = {{1, 4}, {2, 5}, {3, 6}}.
  CHECK(gather(x.t(), 1, idx({1, 0, 1}, {3, 1})).to_vector<float>() == std::vector<float>{4, 2, 6});
  Tensor x3 = arange(0.0, 24.0).reshape({2, 3, 4});
  CHECK(gather(x3, 2, idx({3, 0}, {1, 2, 1})).to_vector<float>() == std::vector<float>{3, 4});
}

TEST_CASE("one_hot and masked_fill values") {
  Tensor oh = one_hot(idx({2, 0, 1}), 3);
  CHECK(oh.shape() == Shape{3, 3});
  CHECK(oh.dtype() == DType::Float32);
  CHECK(oh.to_vector<float>() == std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 0});
  CHECK(one_hot(idx({1, 3}, {2, 1}), -1).shape() == Shape{2, 1, 4});
  Tensor x = mat({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor m = from_vector<uint8_t>({1, 0, 1, 0, 0, 1}, {2, 3});
  CHECK(masked_fill(x, m, -1.0f).to_vector<float>() == std::vector<float>{-1, 2, -1, 4, 5, -1});
  Tensor row = from_vector<uint8_t>({0, 1, 0}, {3});  // broadcast over rows
  CHECK(masked_fill(x, row, 9.0f).to_vector<float>() == std::vector<float>{1, 9, 3, 4, 9, 6});
  CHECK(masked_fill(x.t(), from_vector<uint8_t>({1, 0}, {2}), 0.0f).to_vector<float>() ==
        std::vector<float>{0, 4, 0, 5, 0, 6});
}

TEST_CASE("gradcheck: cat, stack, index_select, gather, masked_fill") {
  Generator g(21);
  Tensor a = leaf(randn({2, 3}, g)), b = leaf(randn({2, 2}, g)), c = leaf(randn({2, 3}, g));
  CHECK(gradcheck([](auto& v) { return cat({v[0], v[1], v[0]}, 1); }, {a, b}));
  CHECK(gradcheck([](auto& v) { return cat({v[0].t(), v[1].t()}, 0); }, {a, b}));
  CHECK(gradcheck([](auto& v) { return stack({v[0], v[1]}, 1); }, {a, c}));
  const Tensor rows = idx({1, 0, 1, 1});
  CHECK(gradcheck([&](auto& v) { return index_select(v[0], 1, idx({2, 0, 2})); }, {a}));
  CHECK(gradcheck([&](auto& v) { return index_select(v[0], 0, rows); }, {a}));  // repeated rows accumulate
  CHECK(gradcheck([&](auto& v) { return index_select(v[0].t(), 0, idx({2, 2, 1})); }, {a}));
  Tensor x3 = leaf(randn({2, 3, 4}, g));
  CHECK(gradcheck([&](auto& v) { return index_select(v[0], 1, idx({0, 2, 0})); }, {x3}));
  CHECK(gradcheck([&](auto& v) { return gather(v[0], 1, idx({2, 0, 2, 1, 1, 1}, {2, 3})); }, {a}));
  CHECK(gradcheck([&](auto& v) { return gather(v[0], 0, idx({1, 1, 0, 0, 1, 1, 0, 1}, {2, 2, 2})); }, {x3}));
  CHECK(gradcheck([&](auto& v) { return gather(v[0].t(), 1, idx({1, 1, 0}, {3, 1})); }, {a}));
  const Tensor mask = from_vector<uint8_t>({1, 0, 0}, {3});
  CHECK(gradcheck([&](auto& v) { return masked_fill(v[0], mask, 5.0f); }, {a}));
  // The masked positions get exactly zero gradient.
  Tensor y = masked_fill(a, mask, 5.0f);
  a.zero_grad();
  y.backward(ones({2, 3}));
  CHECK(a.grad().to_vector<float>() == std::vector<float>{0, 1, 1, 0, 1, 1});
}

TEST_CASE("larger index_select and cat take the parallel paths and stay exact") {
  Tensor x = arange(0.0, 200000.0).reshape({1000, 200});
  std::vector<int64_t> rows(500);
  for (int64_t i = 0; i < 500; ++i)
    rows[i] = (i * 7) % 1000;
  const std::vector<float> sel = index_select(x, 0, idx(rows)).to_vector<float>();
  bool ok = true;
  for (int64_t i = 0; i < 500; ++i)
    for (int64_t k = 0; k < 200; ++k)
      ok = ok && sel[i * 200 + k] == static_cast<float>(rows[i] * 200 + k);
  CHECK(ok);
  Tensor w = leaf(ones({1000, 200}));
  index_select(w, 0, idx(rows)).backward(ones({500, 200}));
  std::vector<float> want(1000 * 200, 0.0f);  // each row's gradient counts its occurrences
  for (int64_t r : rows)
    for (int64_t k = 0; k < 200; ++k)
      want[r * 200 + k] += 1.0f;
  CHECK(w.grad().to_vector<float>() == want);
  CHECK(want[7 * 200] == 1.0f);
  // Wide rows (the backward splits them in column chunks) with repeated indices.
  Tensor e = leaf(zeros({4, 5000}));
  index_select(e, 0, idx({3, 1, 3, 3})).backward(ones({4, 5000}));
  const std::vector<float> ge = e.grad().to_vector<float>();
  CHECK(ge[3 * 5000 + 4999] == 3.0f);
  CHECK(ge[1 * 5000 + 2500] == 1.0f);
  CHECK(ge[0] == 0.0f);
  const Tensor big = cat({x, x}, 1);
  CHECK(big.shape() == Shape{1000, 400});
  CHECK(big.to_vector<float>()[999 * 400 + 399] == 199999.0f);
}

TEST_CASE("indexing ops reject bad inputs, naming the bad index") {
  Tensor x = zeros({3, 2});
  CHECK_THROWS_WITH_AS(index_select(x, 0, idx({0, 3})),
                       doctest::Contains("index_select: index 3 is out of range for dimension 0 of size 3"), Error);
  CHECK_THROWS_WITH_AS(index_select(x, 1, idx({-1})), doctest::Contains("index -1 is out of range"), Error);
  CHECK_THROWS_WITH_AS(index_select(x, 0, from_vector<int32_t>({0}, {1})),
                       doctest::Contains("got index of dtype int32 (expected int64)"), Error);
  CHECK_THROWS_WITH_AS(index_select(x, 0, idx({0, 1}, {1, 2})), doctest::Contains("(expected 1-d)"), Error);
  CHECK_THROWS_WITH_AS(gather(x, 1, idx({0, 2, 1}, {3, 1})),
                       doctest::Contains("gather: index 2 is out of range for dimension 1 of size 2"), Error);
  CHECK_THROWS_WITH_AS(gather(x, 1, idx({0})), doctest::Contains("expected the same number of dims"), Error);
  CHECK_THROWS_WITH_AS(gather(x, 1, idx({0, 0, 0, 0}, {4, 1})), doctest::Contains("expected index.size(0) <= 3"),
                       Error);
  CHECK_THROWS_WITH_AS(one_hot(idx({0, 5}), 3), doctest::Contains("one_hot: label 5 is out of range for 3 classes"),
                       Error);
  CHECK_THROWS_WITH_AS(one_hot(x, 3), doctest::Contains("got labels of dtype float32"), Error);
  CHECK_THROWS_WITH_AS(cat({}, 0), doctest::Contains("cat: got an empty list"), Error);
  CHECK_THROWS_WITH_AS(cat({x, zeros({3, 3})}, 0),
                       doctest::Contains("cat: got shapes [3, 2] and [3, 3] (tensor 1; expected equal sizes except in "
                                         "dimension 0)"),
                       Error);
  CHECK_THROWS_WITH_AS(cat({x, idx({1, 2}, {1, 2})}, 0), doctest::Contains("got dtypes float32 and int64"), Error);
  CHECK_THROWS_WITH_AS(stack({x, zeros({2, 3})}), doctest::Contains("stack: got shapes [3, 2] and [2, 3]"), Error);
  CHECK_THROWS_WITH_AS(masked_fill(x, zeros({3, 2}), 1.0f), doctest::Contains("got mask of dtype float32"), Error);
  CHECK_THROWS_WITH_AS(masked_fill(x, from_vector<uint8_t>({1, 0, 1}, {3}), 1.0f), doctest::Contains("masked_fill"),
                       Error);
}
