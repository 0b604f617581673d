// The autograd engine: accumulation, shared inputs, broadcasting, views, no-grad, freeing.
#include <doctest/doctest.h>

#include "core/ops.h"
#include "tests/gradcheck.h"

using namespace qnn;
using qnn::testing::gradcheck;
using qnn::testing::leaf;

TEST_CASE("a tensor used twice receives the sum of both gradients") {
  Tensor x = leaf(from_vector({1.0f, 2.0f, 3.0f}));
  Tensor y = sum(mul(x, x));  // dy/dx = 2x
  y.backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 4, 6});
  // A second graph accumulates into .grad()
  sum(mul(x, 3.0f)).backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{5, 7, 9});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("the graph is freed after backward") {
  Tensor x = leaf(from_vector({1.0f, 2.0f}));
  Tensor y = sum(mul(x, x));
  y.backward();
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("already freed"), Error);
}

TEST_CASE("non-scalar outputs need an explicit gradient") {
  Tensor x = leaf(from_vector({1.0f, 2.0f}));
  Tensor y = mul(x, 2.0f);
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("non-scalar output of shape [2]"), Error);
  y.backward(from_vector({1.0f, 10.0f}));
  CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 20});
}

TEST_CASE("NoGradGuard and detach record nothing") {
  Tensor x = leaf(from_vector({1.0f}));
  {
    NoGradGuard guard;
    CHECK_FALSE(mul(x, x).requires_grad());
  }
  CHECK(mul(x, x).requires_grad());
  CHECK_FALSE(x.detach().requires_grad());
  CHECK_THROWS_WITH_AS(Tensor(from_vector({1.0f}).to(DType::Int64)).set_requires_grad(true),
                       doctest::Contains("expected float32"), Error);
  CHECK_THROWS_WITH_AS(add_(x, x), doctest::Contains("add_: got a tensor that requires grad"), Error);
}

TEST_CASE("gradcheck: binary ops with broadcasting") {
  Generator g(3);
  Tensor a = leaf(randn({2, 3, 4}, g)), b = leaf(randn({3, 1}, g)), c = leaf(rand({4}, g) + 0.5f);
  CHECK(gradcheck([](auto& v) { return add(v[0], v[1]); }, {a, b}));
  CHECK(gradcheck([](auto& v) { return sub(v[0], v[1]); }, {a, b}));
  CHECK(gradcheck([](auto& v) { return mul(v[0], v[1]); }, {a, b}));
  CHECK(gradcheck([](auto& v) { return div(v[0], v[1]); }, {a, c}));
  CHECK(gradcheck([](auto& v) { return v[0] * 3.0f - 1.0f; }, {a}));
}

TEST_CASE("gradcheck: views (non-contiguous inputs to ops)") {
  Generator g(4);
  Tensor a = leaf(randn({3, 4}, g)), b = leaf(randn({4, 3}, g));
  CHECK(gradcheck([](auto& v) { return mul(v[0].t(), v[1]); }, {a, b}));
  CHECK(gradcheck([](auto& v) { return v[0].slice(1, 1, 4, 2) * 2.0f; }, {a}));
  CHECK(gradcheck([](auto& v) { return v[0].unsqueeze(0).expand({2, 3, 4}).permute({2, 0, 1}); }, {a}));
  CHECK(gradcheck([](auto& v) { return v[0].t().reshape({12}); }, {a}));
  CHECK(gradcheck([](auto& v) { return sum(v[0], {0}, true) * v[0]; }, {a}));
  CHECK(gradcheck([](auto& v) { return v[0].select(1, 2); }, {a}));
}

TEST_CASE("gradcheck: matmul 1-d, 2-d, batched with broadcasting, transposed operands") {
  Generator g(5);
  Tensor a = leaf(randn({3, 4}, g)), b = leaf(randn({4, 2}, g)), v = leaf(randn({4}, g)), w = leaf(randn({4}, g));
  Tensor ba = leaf(randn({2, 3, 4}, g)), bb = leaf(randn({2, 1, 4, 5}, g));
  CHECK(gradcheck([](auto& x) { return matmul(x[0], x[1]); }, {a, b}));
  CHECK(gradcheck([](auto& x) { return matmul(x[0], x[1]); }, {a, v}));
  CHECK(gradcheck([](auto& x) { return matmul(x[0], x[1]); }, {v, b}));
  CHECK(gradcheck([](auto& x) { return matmul(x[0], x[1]); }, {v, w}));
  CHECK(gradcheck([](auto& x) { return matmul(x[0], x[1]); }, {ba, bb}));
  CHECK(gradcheck([](auto& x) { return matmul(x[0].t(), x[1].t()); }, {b, a}));
}

TEST_CASE("a leaf's gradient never aliases a tensor the caller or the graph still holds") {
  Tensor x = from_vector<float>({1, 2, 3}, {3}).set_requires_grad(true);
  Tensor seed = from_vector<float>({1, 1, 1}, {3});
  add(x, 1.0f).backward(seed);  // add's backward passes the seed through unchanged
  {
    NoGradGuard no_grad;
    fill_(seed, 5.0f);
  }
  CHECK(x.grad().to_vector<float>() == std::vector<float>{1, 1, 1});
  // Two uses: the second gradient accumulates into the first without touching it elsewhere.
  Tensor w = from_vector<float>({2, 2, 2}, {3}).set_requires_grad(true);
  sum(add(mul(x, w), mul(x, w))).backward();
  CHECK(w.grad().to_vector<float>() == std::vector<float>{2, 4, 6});
}
