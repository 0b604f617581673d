#pragma once
// module_gradcheck: gradcheck (tests/gradcheck.h) of a module's output with respect to its input
// and every registered parameter, through the module's own forward and parameter plumbing.
#include <string>
#include <vector>

#include "nn/module.h"
#include "tests/gradcheck.h"

namespace qnn::testing {

// The analytic pass runs on the module's real parameters (so their .grad() is what is checked).
// For the numeric passes gradcheck hands in perturbed copies: they are written into the module's
// parameters for that one forward and the original values restored right after.
inline bool module_gradcheck(nn::Module& m, const Tensor& x, GradcheckOptions opt = {}) {
  const nn::StateDict params = m.named_parameters();
  std::vector<Tensor> inputs{leaf(x)};
  std::vector<Tensor> originals;
  for (const auto& [name, p] : params) {
    inputs.push_back(p);
    originals.push_back(p.detach().clone());
  }
  auto fn = [&](const std::vector<Tensor>& xs) {
    std::vector<size_t> swapped;
    for (size_t k = 0; k < params.size(); ++k)
      if (xs[k + 1].impl() != params[k].second.impl()) {
        NoGradGuard no_grad;
        copy_(params[k].second, xs[k + 1]);
        swapped.push_back(k);
      }
    Tensor y = m.forward(xs[0]);
    for (size_t k : swapped) {
      NoGradGuard no_grad;
      copy_(params[k].second, originals[k]);
    }
    return y;
  };
  return gradcheck(fn, inputs, opt);
}

}  // namespace qnn::testing
