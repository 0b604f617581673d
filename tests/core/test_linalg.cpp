// matmul forward values against hand-worked products and a naive loop.
#include <doctest/doctest.h>

#include "core/ops.h"

using namespace qnn;

TEST_CASE("matmul forward: hand-worked 2x2") {
  Tensor a = from_vector<float>({1, 2, 3, 4}, {2, 2}), b = from_vector<float>({5, 6, 7, 8}, {2, 2});
  CHECK(matmul(a, b).to_vector<float>() == std::vector<float>{19, 22, 43, 50});
  CHECK(matmul(a.t(), b).to_vector<float>() == std::vector<float>{26, 30, 38, 44});
  CHECK(matmul(from_vector({1.0f, 2.0f}), from_vector({3.0f, 4.0f})).item() == 11.0f);
}

TEST_CASE("batched matmul with broadcast batch dims equals a naive loop") {
  Generator g(9);
  Tensor a = randn({2, 1, 3, 5}, g), b = randn({4, 5, 2}, g);
  Tensor c = matmul(a, b);
  REQUIRE(c.shape() == Shape{2, 4, 3, 2});
  const auto av = a.to_vector<float>(), bv = b.to_vector<float>(), cv = c.to_vector<float>();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int r = 0; r < 3; ++r)
        for (int s = 0; s < 2; ++s) {
          double acc = 0;
          for (int k = 0; k < 5; ++k)
            acc += av[(i * 3 + r) * 5 + k] * bv[(j * 5 + k) * 2 + s];
          CHECK(cv[((i * 4 + j) * 3 + r) * 2 + s] == doctest::Approx(acc).epsilon(1e-5));
        }
}

TEST_CASE("matmul rejects mismatched inner dims") {
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({2, 3})),
                       doctest::Contains("matmul: got shapes [2, 3] and [2, 3] (expected a's last dim"), Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2}, DType::Int64), zeros({2})), doctest::Contains("expected float32"), Error);
}
