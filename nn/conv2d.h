#pragma once
// nn::Conv2d: 2-d convolution over NCHW input, as torch.nn.Conv2d (zero padding).
#include <array>
#include <functional>

#include "core/generator.h"
#include "core/ops/conv.h"
#include "nn/module.h"

namespace qnn::nn {

// Everything but the channels and kernel, with PyTorch's defaults; designated initializers read
// like the Python call: Conv2d(3, 16, 3, {.padding = 1, .bias = false}).
struct Conv2dArgs {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  // weight [out, in / groups, k, k] ~ kaiming_uniform_(a = sqrt(5)); bias [out] ~
  // U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in / groups * k * k: PyTorch's defaults.
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, const Conv2dArgs& args = {},
         Generator& gen = default_generator());
  // x [N, in, H, W] -> [N, out, H', W'].
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  // The options handed to qnn::conv2d (for passes that run the convolution themselves).
  Conv2dOptions options() const;

  int64_t in_channels, out_channels, kernel_size;
  Conv2dArgs args;
  Tensor weight, bias;  // bias undefined when args.bias is false
  // Called with the input of every forward before the layer computes (post-training quantization
  // captures a layer's input exactly where the layer consumes it). Empty: nothing is called.
  std::function<void(const Tensor&)> input_hook;
};

}  // namespace qnn::nn
