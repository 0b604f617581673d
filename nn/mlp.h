#pragma once
// nn::Mlp: the feed-forward half of a transformer block, as timm's `Mlp`:
// fc1 (in -> hidden), GELU, dropout, fc2 (hidden -> out), dropout. Names fc1/fc2 as timm's, so
// ViT checkpoints load; the parameter-free children (act, drop1, drop2) add no state keys.
#include <memory>

#include "core/generator.h"
#include "nn/activation.h"
#include "nn/dropout.h"
#include "nn/linear.h"

namespace qnn::nn {

class Mlp : public Module {
 public:
  // out_features 0 means in_features (timm's default). fc1/fc2 keep nn::Linear's PyTorch
  // initialization; models re-initialize them. gen draws the initial weights and the dropout
  // masks (it must outlive the module when drop > 0).
  Mlp(int64_t in_features, int64_t hidden_features, int64_t out_features = 0, float drop = 0.0f,
      Generator& gen = default_generator());
  // x [*, in] -> [*, out].
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Linear> fc1, fc2;
  std::shared_ptr<GELU> act;
  std::shared_ptr<Dropout> drop1, drop2;
};

}  // namespace qnn::nn
