#pragma once
// nn::Linear: y = x W^T + b over the last dimension, as torch.nn.Linear.
#include <functional>

#include "core/generator.h"
#include "nn/module.h"

namespace qnn::nn {

class Linear : public Module {
 public:
  // weight [out, in] ~ kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(in), 1/sqrt(in));
  // bias [out] ~ U(-1/sqrt(in), 1/sqrt(in)): PyTorch's defaults.
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator& gen = default_generator());
  // x [*, in] -> [*, out].
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  int64_t in_features, out_features;
  Tensor weight, bias;  // bias undefined when built without one
  // Called with the input of every forward before the layer computes (post-training quantization
  // captures a layer's input exactly where the layer consumes it). Empty: nothing is called.
  std::function<void(const Tensor&)> input_hook;
};

}  // namespace qnn::nn
