#pragma once
// Vision Transformer (Dosovitskiy et al. 2021) and DeiT (Touvron et al. 2021), built and named as
// timm's `VisionTransformer` / `VisionTransformerDistilled` (facebookresearch/deit), so their
// checkpoints load by name:
//   cls_token [1, 1, D], pos_embed [1, 1 + N (+1), D], dist_token [1, 1, D] (distilled only),
//   patch_embed.proj, blocks.i.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm, head,
//   head_dist (distilled only).
// Tokens are [cls, (dist,) patch_1 .. patch_N] + pos_embed; pre-norm blocks; final LayerNorm; the
// head reads the cls token (head_dist the dist token). LayerNorm eps 1e-6 throughout.
#include <memory>
#include <utility>

#include "core/generator.h"
#include "nn/attention.h"
#include "nn/drop_path.h"
#include "nn/layernorm.h"
#include "nn/mlp.h"
#include "nn/patch_embed.h"
#include "nn/sequential.h"

namespace qnn::nn {

struct BlockArgs {
  double mlp_ratio = 4.0;  // hidden width of the Mlp = int(dim * mlp_ratio)
  bool qkv_bias = true;    // the ViT's setting (timm's bare Block defaults to false)
  float drop = 0.0f;       // dropout after attn.proj and inside the Mlp
  float attn_drop = 0.0f;  // dropout on the attention probabilities
  float drop_path = 0.0f;  // stochastic depth on both residual branches
  float norm_eps = 1e-6f;  // the ViT's LayerNorm eps
};

// timm's `Block`, pre-norm residual:
//   x = x + drop_path1(attn(norm1(x)));  x = x + drop_path2(mlp(norm2(x))).
// Layers keep their default initializations (VisionTransformer re-initializes). gen draws the
// initial weights and the dropout / drop-path masks, so it must outlive the block when any of
// those rates is non-zero.
class TransformerBlock : public Module {
 public:
  TransformerBlock(int64_t dim, int64_t num_heads, const BlockArgs& args = {}, Generator& gen = default_generator());
  // x [B, N, dim] -> [B, N, dim].
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<LayerNorm> norm1, norm2;
  std::shared_ptr<MultiheadSelfAttention> attn;
  std::shared_ptr<Mlp> mlp;
  std::shared_ptr<DropPath> drop_path1, drop_path2;
};

struct VitConfig {
  int64_t img_size = 224;
  int64_t patch_size = 16;
  int64_t in_chans = 3;
  int64_t num_classes = 1000;
  int64_t embed_dim = 768;
  int64_t depth = 12;
  int64_t num_heads = 12;
  double mlp_ratio = 4.0;
  bool qkv_bias = true;
  bool distilled = false;  // DeiT's distillation token and second head
  // As timm 0.4.12, the version DeiT was trained with: drop_rate is the dropout after the
  // position embedding, after attn.proj and inside each Mlp; attn_drop_rate on the attention
  // probabilities; drop_path_rate is reached by the last block, rising linearly from 0 at the
  // first (timm's torch.linspace(0, drop_path_rate, depth)).
  float drop_rate = 0.0f;
  float attn_drop_rate = 0.0f;
  float drop_path_rate = 0.0f;
};

class VisionTransformer : public Module {
 public:
  // Initialization as timm/DeiT: cls_token, dist_token, pos_embed and every Linear weight
  // (blocks and heads) ~ trunc_normal(0, 0.02) on [-2, 2]; Linear biases 0; LayerNorm 1 / 0;
  // patch_embed.proj keeps Conv2d's PyTorch default. The model draws from its own generator,
  // seeded with one draw from `gen`, for both the initial weights and later dropout / drop-path
  // masks: one seed fixes everything, and `gen` need not outlive the model.
  explicit VisionTransformer(const VitConfig& config, Generator& gen = default_generator());

  // x [B, in_chans, img, img] -> logits [B, num_classes]. Distilled: (head(cls) + head_dist(dist)) / 2
  // in training and eval alike (timm's default, distilled_training off); forward_heads gives both.
  Tensor forward(const Tensor& x) override;
  // The normalized tokens [B, 1 (+1) + N, D] after the last block and `norm`.
  Tensor forward_features(const Tensor& x);
  // head(cls) and head_dist(dist) separately (the second undefined when not distilled), for
  // DeiT's hard-distillation loss.
  std::pair<Tensor, Tensor> forward_heads(const Tensor& x);
  std::string extra_repr() const override;

  VitConfig config;
  int64_t num_tokens;  // 1 (cls) or 2 (cls, dist)
  Tensor cls_token, pos_embed, dist_token;
  std::shared_ptr<PatchEmbed> patch_embed;
  std::shared_ptr<Dropout> pos_drop;
  std::shared_ptr<Sequential> blocks;  // of TransformerBlock
  std::shared_ptr<LayerNorm> norm;
  std::shared_ptr<Linear> head, head_dist;  // head_dist null unless distilled

 private:
  Generator gen_;
};

}  // namespace qnn::nn
