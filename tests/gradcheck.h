#pragma once
// gradcheck: compares the analytic gradients of a scalar-valued test function with central finite
// differences. The function maps inputs to a tensor y; the checked scalar is L = sum(r * y) for a
// fixed random r (so every output element matters), accumulated in double on the host.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "core/ops.h"

namespace qnn::testing {

struct GradcheckOptions {
  double eps = 1e-2;  // finite-difference step (float32 forward: larger steps, smaller noise)
  double atol = 2e-3;
  double rtol = 1e-2;
};

// Returns true when every input that requires grad has analytic == numeric gradients.
inline bool gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn, std::vector<Tensor> inputs,
                      GradcheckOptions opt = {}) {
  Generator gen(1234);
  Tensor y0 = fn(inputs);
  Tensor r = randn(y0.shape(), gen);
  const std::vector<float> rv = r.to_vector<float>();
  auto loss_value = [&](const std::vector<Tensor>& xs) {
    NoGradGuard no_grad;
    const std::vector<float> yv = fn(xs).to_vector<float>();
    double acc = 0.0;
    for (size_t i = 0; i < yv.size(); ++i)
      acc += static_cast<double>(yv[i]) * rv[i];
    return acc;
  };
  for (Tensor& x : inputs)
    if (x.requires_grad())
      x.zero_grad();
  sum(mul(fn(inputs), r)).backward();
  bool ok = true;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor x = inputs[k];
    if (!x.requires_grad())
      continue;
    REQUIRE_MESSAGE(x.grad().defined(), "input " << k << " received no gradient");
    const std::vector<float> analytic = x.grad().to_vector<float>();
    // Perturbed inputs are contiguous copies; to check non-contiguous views, make them inside fn.
    for (int64_t i = 0; i < x.numel(); ++i) {
      std::vector<Tensor> plus = inputs, minus = inputs;
      Tensor base = x.detach().contiguous().clone();
      std::vector<float> v = base.to_vector<float>();
      const float orig = v[i];
      v[i] = static_cast<float>(orig + opt.eps);
      plus[k] = from_vector<float>(v, x.shape());
      v[i] = static_cast<float>(orig - opt.eps);
      minus[k] = from_vector<float>(v, x.shape());
      const double numeric = (loss_value(plus) - loss_value(minus)) / (2 * opt.eps);
      const double diff = std::abs(numeric - analytic[i]);
      if (diff > opt.atol + opt.rtol * std::abs(numeric)) {
        ok = false;
        FAIL_CHECK("input " << k << " element " << i << ": analytic " << analytic[i] << " vs numeric " << numeric);
      }
    }
  }
  return ok;
}

inline Tensor leaf(const Tensor& t) {
  Tensor x = t.detach().clone();
  x.set_requires_grad(true);
  return x;
}

}  // namespace qnn::testing
