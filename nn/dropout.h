#pragma once
// nn::Dropout: inverted dropout in training mode, identity in eval mode.
#include "core/generator.h"
#include "nn/module.h"

namespace qnn::nn {

class Dropout : public Module {
 public:
  // The masks are drawn from `gen`, which must outlive the module (default: the global one).
  explicit Dropout(float p = 0.5f, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  float p;

 private:
  Generator* gen_;
};

}  // namespace qnn::nn
