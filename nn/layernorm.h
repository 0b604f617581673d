#pragma once
// nn::LayerNorm: normalizes over the trailing normalized_shape dims, as torch.nn.LayerNorm.
#include "nn/module.h"

namespace qnn::nn {

class LayerNorm : public Module {
 public:
  // weight ones, bias zeros, both of normalized_shape (when elementwise_affine).
  explicit LayerNorm(Shape normalized_shape, float eps = 1e-5f, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  Shape normalized_shape;
  float eps;
  Tensor weight, bias;
};

}  // namespace qnn::nn
