#pragma once
// Adam with decoupled weight decay, exactly torch.optim.AdamW (1.13, amsgrad off). Per parameter,
// at step t (counted per parameter, from 1):
//   p = p * (1 - lr * wd)                          (decoupled decay: not through the moments)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g
//   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// m and v start at zero.
#include <vector>

#include "optim/optimizer.h"

namespace qnn::optim {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;  // PyTorch's default
};

class AdamW : public ParamGroupOptimizer {
 public:
  AdamW(std::vector<Tensor> params, const AdamWOptions& options);
  // Groups override lr and weight_decay; unset values come from `options`.
  AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options);

  void step() override;
  std::string kind() const override { return "AdamW"; }
  const AdamWOptions& options() const { return options_; }

 protected:
  std::vector<std::string> buffer_names() const override { return {"exp_avg", "exp_avg_sq"}; }
  nlohmann::json options_json() const override;
  void load_options(const nlohmann::json& options) override;

 private:
  AdamWOptions options_;
};

}  // namespace qnn::optim
