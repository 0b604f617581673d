// quant/ptq/gpfq over a whole network against P2 Algorithm 1 written again in the test: layer i is
// quantized from its input X in the analog network and its input X-tilde in the network whose
// layers < i are already quantized (Phase I), by P2 (8)-(9) or the sparse rules P2 (26)-(28)
// (Phase II). Each layer's inputs are computed here, in double, from the weights before and after,
// and every choice of every neuron is checked against the argmin over its alphabet
// (tests/quant/gpfq_reference.h).
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/creation.h"
#include "core/generator.h"
#include "nn/nn.h"
#include "quant/ptq/ptq.h"
#include "tests/quant/gpfq_reference.h"

using namespace qnn;
using namespace qnn::quant;
using namespace qnn::testing;

namespace {

Tensor random_tensor(const Shape& shape, Generator& gen) {
  int64_t n = 1;
  for (int64_t s : shape)
    n *= s;
  std::vector<float> v(n);
  for (float& x : v)
    x = gen.normal();
  return from_vector<float>(v, shape);
}

// Linear(10, 16) -> ReLU -> Linear(16, 12) -> ReLU -> Linear(12, 5).
std::shared_ptr<nn::Sequential> mlp(uint64_t seed) {
  Generator gen(seed);
  auto net = std::make_shared<nn::Sequential>();
  net->push_back(std::make_shared<nn::Linear>(10, 16, true, gen));
  net->push_back(std::make_shared<nn::ReLU>());
  net->push_back(std::make_shared<nn::Linear>(16, 12, true, gen));
  net->push_back(std::make_shared<nn::ReLU>());
  net->push_back(std::make_shared<nn::Linear>(12, 5, true, gen));
  net->eval();
  return net;
}

std::vector<double> as_doubles(const Tensor& t) {
  const std::vector<float> f = t.contiguous().to_vector<float>();
  return std::vector<double>(f.begin(), f.end());
}

struct Case {
  PtqMethod method;
  GpfqForm form;
  bool per_channel;
};

const char* name(PtqMethod m) { return m == PtqMethod::gpfq ? "plain" : m == PtqMethod::gpfq_soft ? "soft" : "hard"; }

}  // namespace

TEST_CASE("Algorithm 1 on a 3-layer network: layer i from X (analog) and X-tilde (layers < i quantized)") {
  const int bits = 3, K = 4;  // K = 2^(b-1), P2 (31)
  const double C = 1.2, lambda = 0.04;
  const int64_t m = 48;
  const std::vector<Case> cases = {
      {PtqMethod::gpfq, GpfqForm::direct, false},      {PtqMethod::gpfq, GpfqForm::gram, false},
      {PtqMethod::gpfq, GpfqForm::gram, true},         {PtqMethod::gpfq, GpfqForm::direct, true},
      {PtqMethod::gpfq_soft, GpfqForm::direct, false}, {PtqMethod::gpfq_soft, GpfqForm::gram, false},
      {PtqMethod::gpfq_hard, GpfqForm::direct, false}, {PtqMethod::gpfq_hard, GpfqForm::gram, false},
  };
  for (const Case& c : cases) {
    const std::string method = name(c.method);
    CAPTURE(method);
    CAPTURE(c.form == GpfqForm::gram);
    CAPTURE(c.per_channel);
    auto analog = mlp(31), quantized = mlp(32);
    quantized->load_state_dict(analog->state_dict());
    Generator data(7);
    std::vector<Tensor> batches;
    PtqOptions o;
    o.method = c.method;
    o.form = c.form;
    o.alphabet.bits = bits;
    o.alphabet.C = C;
    o.alphabet.per_channel = c.per_channel;
    o.m = m;
    o.lambda = c.method == PtqMethod::gpfq ? 0.0f : static_cast<float>(lambda);
    gpfq(
        *analog, *quantized,
        [&](int64_t rows) {
          batches.push_back(random_tensor({rows, 10}, data));
          return batches.back();
        },
        o);
    REQUIRE(batches.size() == 3);  // a fresh batch X_i per layer

    std::vector<Matrix> W, Q;
    std::vector<std::vector<double>> b;
    for (size_t i : {0u, 2u, 4u}) {
      W.push_back(to_matrix(analog->at<nn::Linear>(i)->weight));
      Q.push_back(to_matrix(quantized->at<nn::Linear>(i)->weight));
      b.push_back(as_doubles(analog->at<nn::Linear>(i)->bias));
      CHECK(as_doubles(quantized->at<nn::Linear>(i)->bias) == b.back());  // biases stay float
    }
    const Rule rule = c.method == PtqMethod::gpfq        ? Rule::plain
                      : c.method == PtqMethod::gpfq_soft ? Rule::soft
                                                         : Rule::hard;
    int64_t wrong_with_analog_xt = 0;
    for (size_t i = 0; i < 3; ++i) {
      CAPTURE(i);
      // Phase I for layer i: batch i through layers < i, analog weights for X, the quantized
      // ones for X-tilde (Algorithm 1).
      Matrix X = to_matrix(batches[i]), Xt = X;
      for (size_t l = 0; l < i; ++l) {
        X = linear(X, W[l], b[l], true);
        Xt = linear(Xt, Q[l], b[l], true);
      }
      // The alphabets of P2 (31)-(32) (per row with per_channel), thresholded for P2 (28).
      std::vector<std::vector<double>> alphabets;
      for (double R : radii(W[i], C, c.per_channel))
        alphabets.push_back(rule == Rule::hard ? thresholded_levels(K, R / K, lambda) : midtread_levels(K, R / K));
      const PathCheck r = check_gpfq_path(W[i], X, Xt, Q[i], alphabets, rule, lambda);
      CAPTURE(r.first_problem);
      CHECK(r.steps == W[i].rows * W[i].cols);
      CHECK(r.off_alphabet == 0);
      CHECK(r.wrong == 0);
      CHECK(r.near_ties <= 2);
      if (i > 0)  // the same check with X-tilde taken from the analog network must fail
        wrong_with_analog_xt += check_gpfq_path(W[i], X, X, Q[i], alphabets, rule, lambda).wrong;
    }
    CHECK(wrong_with_analog_xt > 10);
  }
}
