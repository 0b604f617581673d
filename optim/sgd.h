#pragma once
// Stochastic gradient descent with momentum, exactly torch.optim.SGD (1.13):
//   d = g + wd * p                                   (weight decay added to the gradient)
//   b = d                        on the first step   (the buffer starts as the gradient)
//   b = momentum * b + (1 - dampening) * d           afterwards
//   d = d + momentum * b  (nesterov)   or   d = b
//   p = p - lr * d
// Without momentum there is no buffer and d is used directly.
#include <vector>

#include "optim/optimizer.h"

namespace qnn::optim {

struct SGDOptions {
  double lr = 0.1;
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;  // needs momentum > 0 and dampening 0, as in PyTorch
  double weight_decay = 0.0;
};

class SGD : public ParamGroupOptimizer {
 public:
  SGD(std::vector<Tensor> params, const SGDOptions& options);
  // Groups override lr and weight_decay; unset values come from `options`.
  SGD(std::vector<ParamGroup> groups, const SGDOptions& options);

  void step() override;
  std::string kind() const override { return "SGD"; }
  const SGDOptions& options() const { return options_; }

 protected:
  std::vector<std::string> buffer_names() const override { return {"momentum_buffer"}; }
  bool buffers_after_step(const nlohmann::json& options) const override {
    return options.is_object() && options.value("momentum", 0.0) != 0.0;
  }
  nlohmann::json options_json() const override;
  void load_options(const nlohmann::json& options) override;

 private:
  SGDOptions options_;
};

}  // namespace qnn::optim
