#pragma once
// nn::Identity: returns its input (a placeholder where a layer is optional, e.g. a shortcut).
#include "nn/module.h"

namespace qnn::nn {

class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
};

}  // namespace qnn::nn
