// batch_norm and layer_norm: forward, running statistics and gradients against PyTorch golden
// values (tests/tools/gen_norm.py), against hand loops in double, gradcheck, and input errors.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
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

const nlohmann::json& golden() { return qnn::testing::golden_file("norm.json"); }

// Reference batch norm in double by hand loops: x [N, C, HW] flattened; batch statistics.
std::vector<double> bn_reference(const std::vector<float>& x, int64_t N, int64_t C, int64_t HW, double eps,
                                 std::vector<double>* var_out = nullptr) {
  std::vector<double> y(x.size()), mean(C, 0.0), var(C, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < HW; ++h)
        mean[c] += x[(n * C + c) * HW + h];
  for (int64_t c = 0; c < C; ++c)
    mean[c] /= static_cast<double>(N * HW);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < HW; ++h) {
        const double d = x[(n * C + c) * HW + h] - mean[c];
        var[c] += d * d;
      }
  for (int64_t c = 0; c < C; ++c)
    var[c] /= static_cast<double>(N * HW);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < HW; ++h) {
        const int64_t i = (n * C + c) * HW + h;
        y[i] = (x[i] - mean[c]) / std::sqrt(var[c] + eps);
      }
  if (var_out)
    *var_out = var;
  return y;
}

}  // namespace

TEST_CASE("batch_norm matches PyTorch: train, running statistics, eval, gradients") {
  for (const auto& item : golden()["batch_norm"].items()) {
    const std::string name = item.key();
    const nlohmann::json& c = item.value();
    CAPTURE(name);
    const Shape shape = c["shape"].get<Shape>();
    const int64_t C = shape[1];
    const bool affine = c.contains("weight");
    Tensor x = leaf(tensor_of(c["x"], shape));
    Tensor w = affine ? leaf(tensor_of(c["weight"], {C})) : Tensor();
    Tensor b = affine ? leaf(tensor_of(c["bias"], {C})) : Tensor();
    Tensor rm = tensor_of(c["running_mean0"], {C}), rv = tensor_of(c["running_var0"], {C});
    const Tensor dy = tensor_of(c["dy"], shape);

    Tensor y = batch_norm(x, rm, rv, w, b, true, 0.1f, 1e-5f);
    require_close(y, c["y"], 1e-4);
    y.backward(dy);
    require_close(x.grad(), c["dx"], 2e-4);
    if (affine) {
      require_close(w.grad(), c["dweight"], 2e-4);
      require_close(b.grad(), c["dbias"], 2e-4);
    }
    {
      NoGradGuard no_grad;
      batch_norm(mul(x, 0.5f), rm, rv, w, b, true, 0.1f, 1e-5f);  // a second step updates the stats again
    }
    require_close(rm, c["running_mean"], 1e-4);
    require_close(rv, c["running_var"], 1e-4);

    x.zero_grad();
    if (affine) {
      w.zero_grad();
      b.zero_grad();
    }
    Tensor ye = batch_norm(x, rm, rv, w, b, false);
    require_close(ye, c["y_eval"], 1e-4);
    ye.backward(dy);
    require_close(x.grad(), c["dx_eval"], 2e-4);
    if (affine) {
      require_close(w.grad(), c["dweight_eval"], 2e-4);
      require_close(b.grad(), c["dbias_eval"], 2e-4);
    }
  }
}

TEST_CASE("batch_norm equals hand loops in double, including large means and both kernel layouts") {
  Generator g(11);
  // HW = 1 and 6 take the column kernel, HW = 20 and 4100 the plane kernel (4100 crosses a flush block).
  const std::vector<Shape> shapes = {{64, 7}, {5, 3, 2, 3}, {3, 4, 4, 5}, {2, 3, 4100}};
  for (const Shape& shape : shapes) {
    CAPTURE(shape_str(shape));
    Tensor x = add(mul(randn(shape, g), 0.01f), 1000.0f);  // mean 1000, std 0.01: naive E[x^2]-E[x]^2 fails
    const int64_t N = shape[0], C = shape[1], HW = x.numel() / (N * C);
    std::vector<double> var;
    const std::vector<double> want = bn_reference(x.to_vector<float>(), N, C, HW, 1e-5, &var);
    Tensor rm = zeros({C}), rv = ones({C});
    const std::vector<float> got = batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.25f, 1e-5f).to_vector<float>();
    double worst = 0.0;
    for (size_t i = 0; i < got.size(); ++i)
      worst = std::max(worst, std::abs(got[i] - want[i]));
    CHECK(worst < 1e-3);
    const double M = static_cast<double>(N * HW);
    const std::vector<float> rvv = rv.to_vector<float>();
    for (int64_t c = 0; c < C; ++c)
      CHECK(rvv[c] == doctest::Approx(0.75 + 0.25 * var[c] * M / (M - 1.0)).epsilon(1e-3));
  }
  // Moderate values: tight agreement.
  Tensor x = randn({6, 5, 3, 7}, g);
  const std::vector<double> want = bn_reference(x.to_vector<float>(), 6, 5, 21, 1e-5);
  const std::vector<float> got = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true).to_vector<float>();
  for (size_t i = 0; i < got.size(); ++i)
    REQUIRE(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
}

TEST_CASE("batch_norm is deterministic across thread counts") {
  Generator g(12);
  Tensor x = randn({16, 8, 32, 32}, g);
  const int before = num_threads();
  set_num_threads(1);
  const std::vector<float> one = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true).to_vector<float>();
  set_num_threads(2);
  const std::vector<float> two = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true).to_vector<float>();
  set_num_threads(before);
  CHECK(one == two);
}

TEST_CASE("gradcheck: batch_norm train and eval w.r.t. x, weight, bias") {
  Generator g(13);
  Tensor w = leaf(add(rand({3}, g), 0.5f)), b = leaf(randn({3}, g));
  const Tensor rm = mul(randn({3}, g), 0.2f), rv = add(rand({3}, g), 0.5f);
  GradcheckOptions opt;
  opt.eps = 5e-3;
  for (const Shape& shape : {Shape{4, 3}, Shape{2, 3, 2, 3}, Shape{2, 3, 4, 5}}) {
    CAPTURE(shape_str(shape));
    Tensor x = leaf(randn(shape, g));
    CHECK(gradcheck([](auto& v) { return batch_norm(v[0], Tensor(), Tensor(), v[1], v[2], true); }, {x, w, b}, opt));
    CHECK(gradcheck([&](auto& v) { return batch_norm(v[0], rm, rv, v[1], v[2], false); }, {x, w, b}, opt));
  }
  // No affine; and a non-contiguous input (channels-last storage seen as [N, C, H, W]).
  Tensor x = leaf(randn({2, 3, 3, 4}, g)), xl = leaf(randn({2, 3, 4, 3}, g));
  CHECK(gradcheck([](auto& v) { return batch_norm(v[0], Tensor(), Tensor(), Tensor(), Tensor(), true); }, {x}, opt));
  CHECK(gradcheck(
      [](auto& v) {
        return batch_norm(v[0].permute({0, 3, 1, 2}), Tensor(), Tensor(), v[1], v[2], true);
      },
      {xl, w, b}, opt));
  // Only weight/bias need grad (x is a constant).
  Tensor xc = randn({4, 3, 2, 2}, g);
  CHECK(gradcheck([&](auto& v) { return batch_norm(xc, Tensor(), Tensor(), v[0], v[1], true); }, {w, b}, opt));
}

TEST_CASE("batch_norm in eval ignores the batch and leaves running statistics alone") {
  Tensor x = from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor rm = from_vector<float>({1, -1}, {2}), rv = from_vector<float>({4, 1}, {2});
  Tensor w = from_vector<float>({2, 1}, {2}), b = from_vector<float>({0, 10}, {2});
  const std::vector<float> y = batch_norm(x, rm, rv, w, b, false, 0.1f, 0.0001f).to_vector<float>();
  // channel 0: (x - 1) / sqrt(4.0001) * 2; channel 1: (x + 1) / sqrt(1.0001) + 10
  CHECK(y[0] == doctest::Approx(0.0));
  CHECK(y[2] == doctest::Approx(2.0 / std::sqrt(4.0001) * 2.0));
  CHECK(y[1] == doctest::Approx(3.0 / std::sqrt(1.0001) + 10.0));
  CHECK(y[3] == doctest::Approx(5.0 / std::sqrt(1.0001) + 10.0));
  CHECK(rm.to_vector<float>() == std::vector<float>{1, -1});
  CHECK(rv.to_vector<float>() == std::vector<float>{4, 1});
}

TEST_CASE("batch_norm rejects bad inputs") {
  Tensor x = zeros({4, 3, 2, 2});
  CHECK_THROWS_WITH_AS(batch_norm(zeros({3}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("batch_norm: got input of shape [3] (expected [N, C, *])"), Error);
  CHECK_THROWS_WITH_AS(batch_norm(x, Tensor(), Tensor(), zeros({4}), Tensor(), true),
                       doctest::Contains("weight has shape [4] (expected [3])"), Error);
  CHECK_THROWS_WITH_AS(batch_norm(x, zeros({3}), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("only one of running_mean and running_var"), Error);
  CHECK_THROWS_WITH_AS(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false),
                       doctest::Contains("eval mode got no running_mean"), Error);
  CHECK_THROWS_WITH_AS(batch_norm(zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("expected more than 1 value per channel"), Error);
  CHECK_THROWS_WITH_AS(batch_norm(x.to(DType::Int64), Tensor(), Tensor(), Tensor(), Tensor(), true),
                       doctest::Contains("expected float32"), Error);
  CHECK_THROWS_WITH_AS(batch_norm(x, zeros({3}).to(DType::Int64), ones({3}), Tensor(), Tensor(), true),
                       doctest::Contains("running_mean has dtype int64"), Error);
}

TEST_CASE("layer_norm matches PyTorch: forward and gradients") {
  for (const auto& item : golden()["layer_norm"].items()) {
    const std::string name = item.key();
    const nlohmann::json& c = item.value();
    CAPTURE(name);
    const Shape shape = c["shape"].get<Shape>(), ns = c["normalized_shape"].get<Shape>();
    const bool affine = c.contains("weight");
    Tensor x = leaf(tensor_of(c["x"], shape));
    Tensor w = affine ? leaf(tensor_of(c["weight"], ns)) : Tensor();
    Tensor b = affine ? leaf(tensor_of(c["bias"], ns)) : Tensor();
    Tensor y = layer_norm(x, ns, w, b);
    require_close(y, c["y"], 1e-4);
    y.backward(tensor_of(c["dy"], shape));
    require_close(x.grad(), c["dx"], 2e-4);
    if (affine) {
      require_close(w.grad(), c["dweight"], 2e-4);
      require_close(b.grad(), c["dbias"], 2e-4);
    }
  }
}

TEST_CASE("layer_norm equals hand loops in double with a large mean") {
  Generator g(14);
  Tensor x = add(mul(randn({5, 300}, g), 0.01f), -500.0f);
  const std::vector<float> xv = x.to_vector<float>();
  // One "channel" per row: transposing to [D, R] lets the batch-norm reference do the work.
  const std::vector<float> got = layer_norm(x, {300}).to_vector<float>();
  for (int64_t r = 0; r < 5; ++r) {
    const std::vector<float> row(xv.begin() + r * 300, xv.begin() + (r + 1) * 300);
    const std::vector<double> want = bn_reference(row, 300, 1, 1, 1e-5);
    for (int64_t i = 0; i < 300; ++i)
      REQUIRE(std::abs(got[r * 300 + i] - want[i]) < 1e-2);
  }
}

TEST_CASE("gradcheck: layer_norm w.r.t. x, weight, bias") {
  Generator g(15);
  GradcheckOptions opt;
  opt.eps = 5e-3;
  Tensor x = leaf(randn({3, 4, 5}, g)), w = leaf(add(rand({5}, g), 0.5f)), b = leaf(randn({5}, g));
  Tensor w2 = leaf(add(rand({4, 5}, g), 0.5f)), b2 = leaf(randn({4, 5}, g));
  CHECK(gradcheck([](auto& v) { return layer_norm(v[0], {5}, v[1], v[2]); }, {x, w, b}, opt));
  CHECK(gradcheck([](auto& v) { return layer_norm(v[0], {4, 5}, v[1], v[2]); }, {x, w2, b2}, opt));
  CHECK(gradcheck([](auto& v) { return layer_norm(v[0], {5}); }, {x}, opt));
  CHECK(gradcheck([](auto& v) { return layer_norm(v[0], {5}, v[1]); }, {x, w}, opt));
  Tensor xt = leaf(randn({5, 3}, g));  // non-contiguous input
  CHECK(gradcheck([](auto& v) { return layer_norm(v[0].t(), {5}, v[1], v[2]); }, {xt, w, b}, opt));
  // Many rows: the weight/bias gradients are summed over several row blocks.
  Tensor xm = leaf(randn({70, 3}, g)), wm = leaf(add(rand({3}, g), 0.5f)), bm = leaf(randn({3}, g));
  CHECK(gradcheck([](auto& v) { return layer_norm(v[0], {3}, v[1], v[2]); }, {xm, wm, bm}, opt));
}

TEST_CASE("layer_norm rejects bad inputs") {
  Tensor x = zeros({2, 3, 4});
  CHECK_THROWS_WITH_AS(layer_norm(x, {3}),
                       doctest::Contains("layer_norm: got input of shape [2, 3, 4] and "
                                         "normalized_shape [3]"),
                       Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, {}), doctest::Contains("expected a non-empty normalized_shape"), Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, {4}, zeros({3})), doctest::Contains("weight has shape [3] (expected [4])"), Error);
  CHECK_THROWS_WITH_AS(layer_norm(x, {3, 4}, Tensor(), zeros({4})),
                       doctest::Contains("bias has shape [4] (expected [3, 4])"), Error);
}
