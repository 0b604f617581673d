// softmax, log_softmax and cross_entropy: the vectorized exp against libm, forward and gradients
// against PyTorch golden values (tests/tools/gen_reduce_loss.py), the fused kernels against their
// composition from other ops and hand loops in double, stability, gradcheck, and input errors.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/cpu/softmax_kernels.h"
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

Reduction reduction_of(const std::string& name) {
  return name == "mean" ? Reduction::Mean : (name == "sum" ? Reduction::Sum : Reduction::None);
}

// softmax over `dim` of a contiguous tensor by hand loops in double.
std::vector<double> softmax_reference(const std::vector<float>& x, const Shape& shape, int64_t dim, bool log) {
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < dim; ++i)
    outer *= shape[i];
  for (size_t i = dim + 1; i < shape.size(); ++i)
    inner *= shape[i];
  const int64_t K = shape[dim];
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) { return (o * K + k) * inner + i; };
      double m = -INFINITY, s = 0.0;
      for (int64_t k = 0; k < K; ++k)
        m = std::max(m, static_cast<double>(x[at(k)]));
      for (int64_t k = 0; k < K; ++k)
        s += std::exp(x[at(k)] - m);
      for (int64_t k = 0; k < K; ++k)
        y[at(k)] = log ? x[at(k)] - m - std::log(s) : std::exp(x[at(k)] - m) / s;
    }
  return y;
}

}  // namespace

TEST_CASE("fast_exp is within 2 ulp of exp over the float range, with exact edge cases") {
  double worst = 0.0;
  for (int64_t i = 0; i <= 2000000; ++i) {
    const float x = static_cast<float>(-86.98 + (88.72 + 86.98) * static_cast<double>(i) / 2000000.0);
    const double want = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(cpu::fast_exp(x) - want) / want);
  }
  CHECK(worst < 2.0 * 5.97e-8);  // 2 ulp: an ulp is at most 2^-23 of the value, half of that at the top
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(cpu::fast_exp(0.0f) == 1.0f);
  CHECK(cpu::fast_exp(-inf) == 0.0f);
  CHECK(cpu::fast_exp(-200.0f) == 0.0f);
  CHECK(cpu::fast_exp(inf) == inf);
  CHECK(cpu::fast_exp(100.0f) == inf);
  CHECK(std::isnan(cpu::fast_exp(std::numeric_limits<float>::quiet_NaN())));
  CHECK(std::isfinite(cpu::fast_exp(88.72f)));
}

TEST_CASE("softmax and log_softmax match PyTorch on every dim, large logits, wide columns") {
  for (const char* kind : {"softmax", "log_softmax"})
    for (const auto& item : golden()[kind].items()) {
      const nlohmann::json& c = item.value();
      CAPTURE(kind);
      CAPTURE(item.key());
      Tensor x = leaf(tensor_of(c["x"], c["shape"].get<Shape>()));
      const int64_t dim = c["dim"].get<int64_t>();
      Tensor y = std::string(kind) == "softmax" ? softmax(x, dim) : log_softmax(x, dim);
      require_close(y, c["y"], 1e-5);
      y.backward(tensor_of(c["dy"], y.shape()));
      require_close(x.grad(), c["dx"], 1e-5);
    }
}

TEST_CASE("softmax and log_softmax equal hand loops in double; rows and column tiles") {
  Generator g(31);
  // [5, 1000] one row per task; [3, 40, 600] crosses column tiles of 256; [4, 7, 1] inner of 1.
  for (const Shape& shape : {Shape{5, 1000}, Shape{3, 40, 600}, Shape{4, 7, 1}}) {
    for (int64_t dim = 0; dim < static_cast<int64_t>(shape.size()); ++dim) {
      CAPTURE(shape_str(shape));
      CAPTURE(dim);
      const Tensor x = mul(randn(shape, g), 4.0f);
      const std::vector<float> xv = x.to_vector<float>();
      for (bool log : {false, true}) {
        const std::vector<double> want = softmax_reference(xv, shape, dim, log);
        const std::vector<float> got = (log ? log_softmax(x, dim) : softmax(x, dim)).to_vector<float>();
        double worst = 0.0;
        for (size_t i = 0; i < got.size(); ++i)
          worst = std::max(worst, std::abs(got[i] - want[i]) / (log ? 1.0 + std::abs(want[i]) : want[i]));
        // x - max is rounded to float like x itself: |x - max| < 40 here bounds its relative
        // effect on exp by 40 * 2^-24 = 2.4e-6; the other steps add a few ulp.
        CHECK(worst < 3e-6);
      }
    }
  }
}

TEST_CASE("softmax is stable: huge logits, -inf masks, equal logits, NaN rows") {
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor x = from_vector<float>({1e4f, 1e4f - 1.0f, -1e4f, 0.0f, -inf, 0.0f, 5.0f, 5.0f, 5.0f}, {3, 3});
  const std::vector<float> p = softmax(x, 1).to_vector<float>(), lp = log_softmax(x, 1).to_vector<float>();
  const double e1 = std::exp(-1.0);
  CHECK(p[0] == doctest::Approx(1.0 / (1.0 + e1)).epsilon(1e-6));
  CHECK(p[1] == doctest::Approx(e1 / (1.0 + e1)).epsilon(1e-6));
  CHECK(p[2] == 0.0f);
  CHECK(lp[2] == doctest::Approx(-2e4 - std::log1p(e1)).epsilon(1e-7));
  CHECK(p[3] == 0.5f);
  CHECK(p[4] == 0.0f);  // a masked logit
  CHECK(lp[4] == -inf);
  CHECK(p[6] == doctest::Approx(1.0 / 3.0).epsilon(1e-7));
  // As torch: a NaN poisons its row only; a row of -inf is NaN (0/0).
  const Tensor bad = from_vector<float>({1.0f, std::nanf(""), 2.0f, 3.0f, -inf, -inf}, {3, 2});
  const std::vector<float> b = softmax(bad, 1).to_vector<float>();
  CHECK(std::isnan(b[0]));
  CHECK(std::isnan(b[1]));
  CHECK(b[2] == doctest::Approx(1.0 / (1.0 + std::exp(1.0))).epsilon(1e-6));
  CHECK(std::isnan(b[4]));
  // The cross-entropy of huge logits stays finite and exact: -log_softmax at the target.
  const Tensor z = from_vector<float>({3e4f, 3e4f + 2.0f, -3e4f}, {1, 3});
  const float l = cross_entropy(z, from_vector<int64_t>({0}, {1})).item();
  CHECK(l == doctest::Approx(2.0 + std::log1p(std::exp(-2.0))).epsilon(1e-6));
}

TEST_CASE("softmax is the same with any thread count") {
  Generator g(32);
  const Tensor x = randn({64, 40, 33}, g);
  const int before = num_threads();
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (int64_t dim : {1, 2})
      runs.push_back(softmax(x, dim).to_vector<float>());
  }
  set_num_threads(before);
  CHECK(runs[0] == runs[2]);
  CHECK(runs[1] == runs[3]);
}

TEST_CASE("gradcheck: softmax and log_softmax on every dim, strided input, a column tile of 300") {
  Generator g(33);
  Tensor x = leaf(randn({3, 4, 5}, g));
  for (int64_t dim : {0, 1, 2, -1}) {
    CAPTURE(dim);
    CHECK(gradcheck([dim](auto& v) { return softmax(v[0], dim); }, {x}));
    CHECK(gradcheck([dim](auto& v) { return log_softmax(v[0], dim); }, {x}));
  }
  CHECK(gradcheck([](auto& v) { return softmax(v[0].transpose(0, 2), 1); }, {x}));
  CHECK(gradcheck([](auto& v) { return log_softmax(v[0].transpose(1, 2), 2); }, {x}));
  Tensor w = leaf(randn({2, 3, 300}, g));
  CHECK(gradcheck([](auto& v) { return softmax(v[0], 1); }, {w}));
  CHECK(gradcheck([](auto& v) { return log_softmax(v[0], 1); }, {w}));
}

TEST_CASE("cross_entropy matches PyTorch: class and soft targets, label smoothing, mean/sum/none") {
  for (const auto& item : golden()["cross_entropy"].items()) {
    const nlohmann::json& c = item.value();
    CAPTURE(item.key());
    const int64_t N = c["N"].get<int64_t>(), C = c["C"].get<int64_t>();
    const bool soft = c["soft"].get<bool>();
    Tensor z = leaf(tensor_of(c["logits"], {N, C}));
    Tensor t = soft ? leaf(tensor_of(c["target"], {N, C})) : from_vector<int64_t>(c["target"], {N});
    Tensor loss = cross_entropy(z, t, reduction_of(c["reduction"]), c["label_smoothing"].get<float>());
    CHECK(loss.shape() == c["loss_shape"].get<Shape>());
    require_close(loss, c["loss"], 1e-5);
    loss.backward(tensor_of(c["dy"], loss.shape()));
    require_close(z.grad(), c["dlogits"], 1e-5);
    if (soft)
      require_close(t.grad(), c["dtarget"], 1e-5);
  }
}

TEST_CASE("cross_entropy equals its composition from log_softmax, one_hot, mul, sum: values and gradients") {
  Generator g(34);
  const int64_t N = 7, C = 6;
  const Tensor z0 = mul(randn({N, C}, g), 3.0f);
  const Tensor labels = randint(0, C, {N}, g);
  const Tensor probs = softmax(randn({N, C}, g), 1);
  for (bool soft : {false, true})
    for (float eps : {0.0f, 0.3f})
      for (Reduction red : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
        CAPTURE(soft);
        CAPTURE(eps);
        CAPTURE(static_cast<int>(red));
        Tensor za = leaf(z0), zb = leaf(z0);
        Tensor ta = soft ? leaf(probs) : labels, tb = soft ? leaf(probs) : labels;
        Tensor fused = cross_entropy(za, ta, red, eps);
        // q' = (1 - eps) q + eps / C; loss_n = -sum_c q'_nc log_softmax(z)_nc.
        const Tensor q = add(mul(soft ? tb : one_hot(labels, C), 1.0f - eps), eps / static_cast<float>(C));
        Tensor rows = mul(sum(mul(log_softmax(zb, 1), q), {1}), -1.0f);
        Tensor composed = red == Reduction::None ? rows : (red == Reduction::Sum ? sum(rows) : mean(rows));
        require_close(fused, composed, 1e-5);
        const Tensor dy = randn(fused.shape(), g);
        fused.backward(dy);
        composed.backward(dy);
        require_close(za.grad(), zb.grad(), 1e-5);
        if (soft)
          require_close(ta.grad(), tb.grad(), 1e-5);
      }
}

TEST_CASE("gradcheck: cross_entropy w.r.t. logits and soft targets, every reduction and smoothing") {
  Generator g(35);
  Tensor z = leaf(randn({5, 4}, g));
  const Tensor labels = from_vector<int64_t>({0, 3, 1, 3, 2}, {5});
  Tensor q = leaf(softmax(randn({5, 4}, g), 1));
  Tensor raw = leaf(rand({5, 4}, g));  // probabilities that do not sum to 1 (torch accepts them)
  for (Reduction red : {Reduction::Mean, Reduction::Sum, Reduction::None})
    for (float eps : {0.0f, 0.1f}) {
      CAPTURE(static_cast<int>(red));
      CAPTURE(eps);
      CHECK(gradcheck([&](auto& v) { return cross_entropy(v[0], labels, red, eps); }, {z}));
      CHECK(gradcheck([&](auto& v) { return cross_entropy(v[0], v[1], red, eps); }, {z, q}));
      CHECK(gradcheck([&](auto& v) { return cross_entropy(v[0], v[1], red, eps); }, {z, raw}));
    }
  // Strided logits.
  Tensor zt = leaf(randn({4, 5}, g));
  CHECK(gradcheck([&](auto& v) { return cross_entropy(v[0].t(), labels); }, {zt}));
}

TEST_CASE("cross_entropy edge cases: empty batch, one class, full smoothing") {
  const Tensor empty_z = zeros({0, 3});
  const Tensor empty_t = zeros({0}, DType::Int64);
  CHECK(std::isnan(cross_entropy(empty_z, empty_t).item()));  // mean of nothing, as torch
  CHECK(cross_entropy(empty_z, empty_t, Reduction::Sum).item() == 0.0f);
  CHECK(cross_entropy(empty_z, empty_t, Reduction::None).shape() == Shape{0});
  CHECK(cross_entropy(from_vector<float>({2.0f, -1.0f}, {2, 1}), zeros({2}, DType::Int64)).item() == 0.0f);
  // eps = 1: the target is uniform whatever the labels.
  const Tensor z = from_vector<float>({1, 2, 3, 0, 0, 5}, {2, 3});
  const float a = cross_entropy(z, from_vector<int64_t>({0, 1}, {2}), Reduction::Sum, 1.0f).item();
  const float b = cross_entropy(z, from_vector<int64_t>({2, 2}, {2}), Reduction::Sum, 1.0f).item();
  CHECK(a == b);
}

TEST_CASE("softmax and cross_entropy reject bad inputs") {
  const Tensor z = zeros({3, 4});
  CHECK_THROWS_WITH_AS(softmax(z, 2), doctest::Contains("softmax: dimension 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(log_softmax(z.to(DType::Int64), 1),
                       doctest::Contains("log_softmax: got dtype int64 (expected float32)"), Error);
  const Tensor t = from_vector<int64_t>({0, 4, 1}, {3});
  CHECK_THROWS_WITH_AS(cross_entropy(z, t),
                       doctest::Contains("cross_entropy: got target 4 at row 1 (expected a class in [0, 4))"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(z, from_vector<int64_t>({0, -100, 1}, {3})),
                       doctest::Contains("cross_entropy: got target -100 at row 1"), Error);
  CHECK_THROWS_WITH_AS(
      cross_entropy(z, zeros({4}, DType::Int64)),
      doctest::Contains("cross_entropy: got int64 target of shape [4] for logits [3, 4] (expected [3])"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(z, zeros({3, 5})),
                       doctest::Contains("cross_entropy: got float32 target of shape [3, 5] for logits [3, 4]"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(z, zeros({3}, DType::Int32)),
                       doctest::Contains("cross_entropy: got a target of dtype int32"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({2, 3, 4}), zeros({2}, DType::Int64)),
                       doctest::Contains("cross_entropy: got logits of shape [2, 3, 4] (expected [N, C])"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(z.to(DType::Int64), t),
                       doctest::Contains("cross_entropy: got dtype int64 (expected float32)"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(z, from_vector<int64_t>({0, 1, 1}, {3}), Reduction::Mean, 1.5f),
                       doctest::Contains("cross_entropy: got label_smoothing 1.5 (expected in [0, 1])"), Error);
}
