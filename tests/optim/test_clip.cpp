// clip_grad_norm_ and grad_norm against hand values.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/ops.h"
#include "optim/clip.h"

using namespace qnn;
using namespace qnn::optim;

namespace {

Tensor param_with_grad(const std::vector<float>& grad, const Shape& shape) {
  Tensor p = zeros(shape);
  p.set_requires_grad(true);
  p.set_grad(from_vector<float>(grad, shape));
  return p;
}

}  // namespace

TEST_CASE("clip_grad_norm_ scales all gradients together by max_norm / total") {
  // Norm of all gradients: sqrt(9 + 16 + 144) = 13.
  Tensor a = param_with_grad({3.0f, 4.0f}, {2});
  Tensor b = param_with_grad({12.0f}, {1, 1});
  Tensor none = zeros({3});
  none.set_requires_grad(true);  // no gradient: counts as 0 and stays without one
  CHECK(grad_norm({a, b, none}) == doctest::Approx(13.0).epsilon(1e-12));
  const double total = clip_grad_norm_({a, b, none}, 6.5);
  CHECK(total == doctest::Approx(13.0).epsilon(1e-12));
  const float scale = static_cast<float>(6.5 / (13.0 + 1e-6));
  CHECK(a.grad().to_vector<float>() == std::vector<float>{3.0f * scale, 4.0f * scale});
  CHECK(b.grad().item() == 12.0f * scale);
  CHECK(!none.grad().defined());
  CHECK(grad_norm({a, b}) == doctest::Approx(6.5).epsilon(1e-6));
}

TEST_CASE("clip_grad_norm_ leaves gradients under the limit alone") {
  Tensor a = param_with_grad({0.3f, -0.4f}, {2});
  CHECK(clip_grad_norm_({a}, 1.0) == doctest::Approx(0.5).epsilon(1e-7));
  CHECK(a.grad().to_vector<float>() == std::vector<float>{0.3f, -0.4f});
  CHECK(clip_grad_norm_({a}, 0.5) == doctest::Approx(0.5).epsilon(1e-7));  // 0.5 / (0.5 + 1e-6) < 1: scaled
  CHECK(a.grad().to_vector<float>()[0] == doctest::Approx(0.3f * 0.5f / 0.500001f).epsilon(1e-7));
}

TEST_CASE("grad_norm of a large gradient does not depend on the thread count") {
  std::vector<float> g(100003);
  double want = 0.0;
  for (size_t i = 0; i < g.size(); ++i) {
    g[i] = static_cast<float>(std::sin(0.001 * static_cast<double>(i)));
    want += static_cast<double>(g[i]) * g[i];
  }
  Tensor a = param_with_grad(g, {static_cast<int64_t>(g.size())});
  const int threads = num_threads();
  set_num_threads(1);
  const double one = grad_norm({a});
  set_num_threads(std::max(threads, 2));
  const double many = grad_norm({a});
  set_num_threads(threads);
  CHECK(one == many);
  CHECK(one == doctest::Approx(std::sqrt(want)).epsilon(1e-12));
}

TEST_CASE("clip_grad_norm_: errors and non-finite norms") {
  Tensor a = param_with_grad({std::numeric_limits<float>::infinity(), 1.0f}, {2});
  CHECK_THROWS_AS(clip_grad_norm_({a}, 1.0, /*error_if_nonfinite=*/true), Error);
  CHECK(a.grad().to_vector<float>()[1] == 1.0f);  // untouched when it throws
  CHECK(std::isinf(clip_grad_norm_({a}, 1.0)));   // as PyTorch: scaled by 0 (inf * 0 = nan)
  CHECK(std::isnan(a.grad().to_vector<float>()[0]));
  CHECK(a.grad().to_vector<float>()[1] == 0.0f);
  Tensor b = param_with_grad({1.0f}, {1});
  CHECK_THROWS_AS(clip_grad_norm_({b}, -1.0), Error);
  CHECK_THROWS_AS(clip_grad_norm_({b}, std::nan("")), Error);
}
