// quant/ptq/gpfq_layer and layer_data: GPFQ on small layers against a naive loop written straight
// from P2 (7)-(8) (argmin over the alphabet by brute force, in double), the Gram form against the
// direct recursion, the per-neuron invariants from the proof of P2 Lemma A.4, and the conv patch
// matrix against a real convolution.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/generator.h"
#include "core/ops.h"
#include "nn/conv2d.h"
#include "quant/ptq/gpfq_layer.h"
#include "quant/ptq/layer_data.h"
#include "tests/quant/gpfq_reference.h"

using namespace qnn;
using namespace qnn::quant;
using qnn::testing::check_gpfq_path;
using qnn::testing::Matrix;
using qnn::testing::midtread_levels;
using qnn::testing::PathCheck;
using qnn::testing::Rule;
using qnn::testing::thresholded_levels;
using qnn::testing::to_matrix;

namespace {

Tensor random_matrix(int64_t rows, int64_t cols, Generator& gen, float scale = 1.0f) {
  std::vector<float> v(rows * cols);
  for (float& x : v)
    x = scale * gen.normal();
  return from_vector<float>(v, {rows, cols});
}

// P2 (7)-(8) for one neuron, literally: q_t = argmin_{p in A} ||u_{t-1} + w_t X_t - p Xt_t||^2
// (every level tried), u_t = u_{t-1} + w_t X_t - q_t Xt_t. `threshold` applies Q~'s rule "0 when
// |alpha_t| <= lambda" (P2 (6)/(28)) before the argmin. Returns q and checks the invariant
// |<Xt_t, u_t>| / ||Xt_t||^2 <= delta/2 for alpha_t inside the alphabet's range.
std::vector<float> naive_gpfq_neuron(const std::vector<float>& w, const Tensor& X, const Tensor& Xt, const Alphabet& A,
                                     double& final_norm, int& invariant_checks, float hard_lambda = 0) {
  const int64_t m = X.size(0), N = X.size(1);
  const float* x = X.data<float>();
  const float* xt = Xt.data<float>();
  std::vector<double> u(m, 0.0), v(m);
  std::vector<float> q(N);
  for (int64_t t = 0; t < N; ++t) {
    double dot = 0, norm2 = 0;
    for (int64_t i = 0; i < m; ++i) {
      v[i] = u[i] + static_cast<double>(w[t]) * x[i * N + t];
      dot += xt[i * N + t] * v[i];
      norm2 += static_cast<double>(xt[i * N + t]) * xt[i * N + t];
    }
    const double alpha = dot / norm2;
    double best = INFINITY;
    float best_p = 0;
    for (float p : A.levels()) {
      if (hard_lambda > 0 && std::fabs(alpha) <= hard_lambda && p != 0)
        continue;
      double cost = 0;
      for (int64_t i = 0; i < m; ++i) {
        const double r = v[i] - static_cast<double>(p) * xt[i * N + t];
        cost += r * r;
      }
      if (cost < best) {
        best = cost;
        best_p = p;
      }
    }
    q[t] = best_p;
    double inner = 0;
    for (int64_t i = 0; i < m; ++i) {
      u[i] = v[i] - static_cast<double>(best_p) * xt[i * N + t];
      inner += xt[i * N + t] * u[i];
    }
    if (A.kind() == Alphabet::Kind::midtread && std::fabs(alpha) <= A.max_level() + A.delta() / 2) {
      // <Xt_t, u_t> = ||Xt_t||^2 (alpha_t - q_t), |alpha_t - q_t| <= delta/2 (proof of P2 Lemma A.4)
      CHECK(std::fabs(inner) / norm2 <= A.delta() / 2 * (1 + 1e-6));
      ++invariant_checks;
    }
  }
  double s = 0;
  for (double ui : u)
    s += ui * ui;
  final_norm = std::sqrt(s);
  return q;
}

struct Layer {
  Tensor W, X, Xt;
};

// Xt = X plus a perturbation (the partly quantized network sees slightly different inputs).
Layer random_layer(int64_t neurons, int64_t N, int64_t m, uint64_t seed, float perturb = 0.1f) {
  Generator gen(seed);
  Layer L;
  L.W = random_matrix(neurons, N, gen, 0.3f);
  L.X = random_matrix(m, N, gen);
  const Tensor noise = random_matrix(m, N, gen, perturb);
  NoGradGuard ng;
  L.Xt = add(L.X, noise).contiguous();
  return L;
}

}  // namespace

TEST_CASE("GPFQ layer equals the naive loop of P2 (7)-(8), and ||u_N|| = ||Xw - Xt q||") {
  const Layer L = random_layer(6, 40, 30, 11);
  const std::vector<Alphabet> A = {Alphabet::midtread(4, 0.1f)};
  for (GpfqForm form : {GpfqForm::direct, GpfqForm::gram}) {
    GpfqLayerOptions o;
    o.form = form;
    const GpfqLayerResult r = gpfq_layer(L.W, L.X, L.Xt, A, o);
    const std::vector<float> Q = r.Q.to_vector<float>(), W = L.W.to_vector<float>();
    int checks = 0;
    double err2 = 0, ref2 = 0;
    for (int64_t j = 0; j < 6; ++j) {
      double u_norm = 0;
      const std::vector<float> w(W.begin() + j * 40, W.begin() + (j + 1) * 40);
      const std::vector<float> q = naive_gpfq_neuron(w, L.X, L.Xt, A[0], u_norm, checks);
      for (int64_t t = 0; t < 40; ++t)
        CHECK(Q[j * 40 + t] == q[t]);
      // ||u_N|| equals the pre-activation error of the neuron.
      const Tensor wj = from_vector<float>(w, {40, 1}), qj = from_vector<float>(q, {40, 1});
      const std::vector<float> a = matmul(L.X, wj).to_vector<float>(), b = matmul(L.Xt, qj).to_vector<float>();
      double e = 0, ref = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        e += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
        ref += static_cast<double>(a[i]) * a[i];
      }
      CHECK(std::sqrt(e) == doctest::Approx(u_norm).epsilon(1e-5));
      err2 += e;
      ref2 += ref;
    }
    CHECK(checks > 100);
    CHECK(r.relative_error == doctest::Approx(std::sqrt(err2 / ref2)).epsilon(1e-4));
  }
}

TEST_CASE("GPFQ per-channel alphabets and hard/soft thresholding against the naive loop") {
  const Layer L = random_layer(4, 30, 25, 5);
  std::vector<Alphabet> per_neuron;
  for (int j = 0; j < 4; ++j)
    per_neuron.push_back(Alphabet::midtread(2, 0.1f + 0.05f * j));
  const std::vector<float> W = L.W.to_vector<float>();
  int checks = 0;
  double unused = 0;
  for (GpfqForm form : {GpfqForm::direct, GpfqForm::gram}) {  // each neuron on its own alphabet in both forms
    const std::vector<float> Q = gpfq_layer(L.W, L.X, L.Xt, per_neuron, {0.0f, form}).Q.to_vector<float>();
    for (int64_t j = 0; j < 4; ++j) {
      const std::vector<float> w(W.begin() + j * 30, W.begin() + (j + 1) * 30);
      const std::vector<float> q = naive_gpfq_neuron(w, L.X, L.Xt, per_neuron[j], unused, checks);
      for (int64_t t = 0; t < 30; ++t)
        CHECK(Q[j * 30 + t] == q[t]);
    }
  }
  // Hard thresholding, P2 (28): plain GPFQ over the thresholded alphabet, with |alpha| <= lambda -> 0.
  const Alphabet hard = Alphabet::thresholded(2, 0.1f, 0.15f);
  const GpfqLayerResult h = gpfq_layer(L.W, L.X, L.Xt, {hard}, {0.0f, GpfqForm::direct});
  const std::vector<float> H = h.Q.to_vector<float>();
  for (int64_t j = 0; j < 4; ++j) {
    const std::vector<float> w(W.begin() + j * 30, W.begin() + (j + 1) * 30);
    const std::vector<float> q = naive_gpfq_neuron(w, L.X, L.Xt, hard, unused, checks, 0.15f);
    for (int64_t t = 0; t < 30; ++t)
      CHECK(H[j * 30 + t] == q[t]);
  }
  // Soft thresholding, P2 (27): a lambda beyond every |alpha_t| zeroes the layer; sparsity grows with lambda.
  auto zeros = [](const Tensor& Q) {
    int n = 0;
    for (float v : Q.to_vector<float>())
      n += v == 0.0f;
    return n;
  };
  const Alphabet A = Alphabet::midtread(4, 0.05f);
  const int z0 = zeros(gpfq_layer(L.W, L.X, L.Xt, {A}, {0.0f}).Q);
  const int z1 = zeros(gpfq_layer(L.W, L.X, L.Xt, {A}, {0.1f}).Q);
  CHECK(z1 > z0);
  CHECK(zeros(gpfq_layer(L.W, L.X, L.Xt, {A}, {1e6f}).Q) == 4 * 30);
}

TEST_CASE("soft thresholding P2 (27) is the argmin of P2 (26) over the midtread alphabet, level by level") {
  // Divided by ||Xt_t||^2, P2 (26) is min_p 1/2 p^2 - alpha p + lambda |p| (+ a constant): every
  // level tried, against Q(s_lambda(alpha)), on random alpha, lambda, delta and K.
  Generator gen(26);
  int compared = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    const int K = 1 + static_cast<int>(gen.integer(0, 8));
    const float delta = 0.01f + gen.uniform();
    const float lambda = 2.0f * delta * gen.uniform();
    const float alpha = 1.5f * static_cast<float>(K) * delta * gen.normal();
    const Alphabet A = Alphabet::midtread(K, delta);
    std::vector<double> cost;
    for (float p : A.levels())
      cost.push_back(0.5 * p * p - static_cast<double>(alpha) * p + static_cast<double>(lambda) * std::fabs(p));
    std::vector<double> sorted = cost;
    std::sort(sorted.begin(), sorted.end());
    if (sorted[1] - sorted[0] < 1e-5 * delta * delta)
      continue;  // a tie up to float rounding: either level is the argmin
    const size_t best = static_cast<size_t>(std::min_element(cost.begin(), cost.end()) - cost.begin());
    CAPTURE(alpha);
    CAPTURE(lambda);
    CAPTURE(delta);
    CHECK(A.nearest(soft_threshold(alpha, lambda)) == A.levels()[best]);
    ++compared;
  }
  CHECK(compared > 19000);
  // soft_threshold itself: s_lambda(z) = sign(z) max{|z| - lambda, 0}.
  CHECK(soft_threshold(0.7f, 0.25f) == 0.45f);
  CHECK(soft_threshold(-0.7f, 0.25f) == -0.45f);
  CHECK(soft_threshold(0.2f, 0.25f) == 0.0f);
  CHECK(soft_threshold(-0.25f, 0.25f) == 0.0f);
}

TEST_CASE("sparse GPFQ on a layer: soft thresholding makes the argmin of P2 (26) at every step, hard P2 (28)") {
  const Layer L = random_layer(6, 40, 30, 27);
  const float delta = 0.08f, lambda = 0.06f;
  const Matrix W = to_matrix(L.W), X = to_matrix(L.X), Xt = to_matrix(L.Xt);
  for (GpfqForm form : {GpfqForm::direct, GpfqForm::gram}) {
    CAPTURE(form == GpfqForm::gram);
    const GpfqLayerResult soft = gpfq_layer(L.W, L.X, L.Xt, {Alphabet::midtread(4, delta)}, {lambda, form});
    PathCheck r = check_gpfq_path(W, X, Xt, to_matrix(soft.Q), {midtread_levels(4, delta)}, Rule::soft, lambda);
    CAPTURE(r.first_problem);
    CHECK(r.wrong == 0);
    CHECK(r.off_alphabet == 0);
    CHECK(r.near_ties <= 2);
    // The same choices are not those of plain GPFQ (the check has power) ...
    CHECK(check_gpfq_path(W, X, Xt, to_matrix(soft.Q), {midtread_levels(4, delta)}, Rule::plain, 0).wrong > 20);
    // ... and hard thresholding, P2 (28), over the thresholded alphabet P2 (4).
    const GpfqLayerResult hard = gpfq_layer(L.W, L.X, L.Xt, {Alphabet::thresholded(4, delta, lambda)}, {0.0f, form});
    r = check_gpfq_path(W, X, Xt, to_matrix(hard.Q), {thresholded_levels(4, delta, lambda)}, Rule::hard, lambda);
    CAPTURE(r.first_problem);
    CHECK(r.wrong == 0);
    CHECK(r.off_alphabet == 0);
  }
}

TEST_CASE("GPFQ: the Gram form agrees with the direct recursion (rounding-boundary flips counted)") {
  const Layer L = random_layer(32, 200, 2000, 3);
  const std::vector<Alphabet> A = {Alphabet::midtread(8, 0.04f)};
  const GpfqLayerResult d = gpfq_layer(L.W, L.X, L.Xt, A, {0.0f, GpfqForm::direct});
  const GpfqLayerResult g = gpfq_layer(L.W, L.X, L.Xt, A, {0.0f, GpfqForm::gram});
  CHECK(!d.used_gram);
  CHECK(g.used_gram);
  const std::vector<float> a = d.Q.to_vector<float>(), b = g.Q.to_vector<float>();
  int flips = 0;
  for (size_t i = 0; i < a.size(); ++i)
    flips += a[i] != b[i];
  MESSAGE("Gram vs direct: " << flips << " of " << a.size() << " entries differ");
  // In float the two forms sum in different orders; a flip needs alpha_t within ~1e-6 of a
  // rounding boundary, and one flip changes the later path of that neuron. Expect (almost) none.
  CHECK(flips <= static_cast<int>(a.size()) / 1000);
  CHECK(g.relative_error == doctest::Approx(d.relative_error).epsilon(0.01));
}

TEST_CASE("GPFQ beats round-to-nearest on a wide layer, and X = Xt is the single-layer case P2 (10)") {
  const Layer L = random_layer(8, 4096, 32, 21, 0.0f);  // Xt = X; w ~ N(0, 0.3^2); N >> m
  const Alphabet A = Alphabet::midtread(2, 0.45f);      // q_max = 0.9 = 3 sigma: (almost) no clipping
  const GpfqLayerResult r = gpfq_layer(L.W, L.X, L.Xt, {A});
  Tensor rtn = L.W.clone();
  {
    float* p = rtn.data<float>();
    for (int64_t i = 0; i < rtn.numel(); ++i)
      p[i] = A.nearest(p[i]);
  }
  const double rtn_error = relative_layer_error(L.W, rtn, L.X, L.Xt);
  MESSAGE("relative error: GPFQ " << r.relative_error << ", RTN " << rtn_error);
  CHECK(r.relative_error < 0.25 * rtn_error);  // P2 (24)-(25): GPFQ's squared error ~ m log N / N, RTN's stays
}

TEST_CASE("GPFQ: a dead input column gets q_t = Q(0) = 0") {
  Layer L = random_layer(3, 10, 20, 8);
  {
    float* xt = L.Xt.data<float>();
    for (int64_t i = 0; i < 20; ++i)
      xt[i * 10 + 4] = 0.0f;
  }
  for (GpfqForm form : {GpfqForm::direct, GpfqForm::gram}) {
    const std::vector<float> Q =
        gpfq_layer(L.W, L.X, L.Xt, {Alphabet::midtread(4, 0.1f)}, {0.0f, form}).Q.to_vector<float>();
    for (int j = 0; j < 3; ++j)
      CHECK(Q[j * 10 + 4] == 0.0f);
  }
}

TEST_CASE("GPFQ layer: bad shapes are clear errors") {
  const Layer L = random_layer(3, 10, 20, 8);
  const std::vector<Alphabet> A = {Alphabet::midtread(4, 0.1f)};
  CHECK_THROWS_WITH_AS(gpfq_layer(L.W, L.X.narrow(1, 0, 9), L.Xt, A), doctest::Contains("gpfq_layer"), Error);
  CHECK_THROWS_WITH_AS(gpfq_layer(L.W, L.X, L.Xt, {A[0], A[0]}), doctest::Contains("2 alphabets for 3 neurons"), Error);
}

TEST_CASE("conv patch matrix: stride = kernel patches times the kernel equal the strided convolution") {
  Generator gen(4);
  for (int64_t pad : {0, 1}) {
    for (int64_t dil : {1, 2}) {
      nn::Conv2d conv(3, 5, 3, nn::Conv2dArgs{.stride = 1, .padding = pad, .dilation = dil, .bias = false}, gen);
      const Tensor x = random_matrix(2 * 3, 11 * 11, gen).reshape({2, 3, 11, 11});
      const PatchGrid grid = patch_grid(conv, 11, 11);
      const std::vector<int64_t> all = sample_patches(2, grid.per_image(), 1.0, gen);  // p = 1: every patch, in order
      const Tensor X = conv_patch_matrix(x, conv, all);
      CHECK(X.size(0) == 2 * grid.per_image());
      CHECK(X.size(1) == 27);
      NoGradGuard ng;
      Conv2dOptions strided = conv.options();
      strided.stride = {3, 3};
      const Tensor y = conv2d(x, conv.weight, Tensor(), strided);  // [2, 5, Lh, Lw]
      REQUIRE(y.size(2) == grid.Lh);
      REQUIRE(y.size(3) == grid.Lw);
      const Tensor xw = matmul(X, conv.weight.reshape({5, 27}).t());  // [rows, 5]
      const std::vector<float> a = xw.to_vector<float>(), b = y.permute({0, 2, 3, 1}).contiguous().to_vector<float>();
      REQUIRE(a.size() == b.size());
      for (size_t i = 0; i < a.size(); ++i)
        CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-5));
    }
  }
}

TEST_CASE("patch sampling: T = floor(p L) + 1 per image, with replacement, in range; p = 1 keeps all") {
  Generator gen(1);
  CHECK(patches_per_image(121, 0.25) == 31);  // ResNet-20 on 32x32, 3x3 pad 1: L = 11^2
  CHECK(patches_per_image(361, 0.25) == 91);  // ResNet-18's 3x3 pad 1 convs on 56x56: L = 19^2
  CHECK(patches_per_image(9, 1.0) == 9);
  const std::vector<int64_t> idx = sample_patches(50, 9, 0.25, gen);
  CHECK(idx.size() == 50u * 3u);
  for (int64_t i : idx)
    CHECK((i >= 0 && i < 9));
  CHECK_THROWS_WITH_AS(sample_patches(1, 9, 0.0, gen), doctest::Contains("p = 0"), Error);
}
