#pragma once
// nn::MultiheadSelfAttention: the self-attention of a Vision Transformer, as timm's `Attention`,
// with timm's names so DeiT checkpoints load: one fused projection `qkv` (dim -> 3 dim) split
// into H heads of d = dim / H, per head softmax(q k^T / sqrt(d)) v, heads concatenated, then the
// output projection `proj` (dim -> dim). Dropout on the attention weights and after `proj` is
// optional (p = 0: none).
#include <memory>

#include "core/generator.h"
#include "nn/dropout.h"
#include "nn/linear.h"

namespace qnn::nn {

// timm's defaults: no qkv bias (VisionTransformer turns it on), no dropout.
struct AttentionArgs {
  bool qkv_bias = false;
  float attn_drop = 0.0f;  // on the [B, H, N, N] attention probabilities
  float proj_drop = 0.0f;  // after proj
};

// The attention core on already split heads, composed from batched matmul and softmax:
// q, k, v [B, H, N, d] -> softmax(q k^T * scale) v [B, H, N, d]. The probabilities pass through
// `dropout_p` (inverted dropout) when training, as timm's attn_drop.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, float scale,
                                    float dropout_p = 0.0f, bool training = false,
                                    Generator& gen = default_generator());

class MultiheadSelfAttention : public Module {
 public:
  // qkv and proj keep nn::Linear's PyTorch initialization; models re-initialize them (the ViT
  // uses trunc_normal(std 0.02) weights and zero biases). gen draws the initial weights and the
  // dropout masks, so it must outlive the module when a dropout p is non-zero.
  MultiheadSelfAttention(int64_t dim, int64_t num_heads, const AttentionArgs& args = {},
                         Generator& gen = default_generator());
  // x [B, N, dim] -> [B, N, dim].
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  int64_t dim, num_heads, head_dim;
  float scale;  // 1 / sqrt(head_dim)
  std::shared_ptr<Linear> qkv, proj;
  std::shared_ptr<Dropout> attn_drop, proj_drop;

 private:
  Generator* gen_;
};

}  // namespace qnn::nn
