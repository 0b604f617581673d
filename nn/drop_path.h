#pragma once
// nn::DropPath: stochastic depth (Huang et al. 2016) per sample, as timm's `DropPath`: in training,
// each sample's residual branch is zeroed with probability p and the kept ones scaled by
// 1 / (1 - p), so the expectation is unchanged; identity in eval mode or at p = 0.
#include "core/generator.h"
#include "nn/module.h"

namespace qnn::nn {

class DropPath : public Module {
 public:
  // The per-sample draws come from `gen`, which must outlive the module (default: the global one).
  explicit DropPath(float p = 0.0f, Generator& gen = default_generator());
  // x [B, ...]: one keep/drop draw per index of dim 0.
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  float p;

 private:
  Generator* gen_;
};

}  // namespace qnn::nn
