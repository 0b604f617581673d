#pragma once
// Activation modules (no parameters): ReLU and GELU (exact erf form, PyTorch's default).
#include "nn/module.h"

namespace qnn::nn {

class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& x) override;
};

class GELU : public Module {
 public:
  GELU() : Module("GELU") {}
  Tensor forward(const Tensor& x) override;
};

}  // namespace qnn::nn
