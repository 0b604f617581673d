#include "nn/models/vit.h"

#include <sstream>

#include "core/creation.h"
#include "core/ops/elementwise.h"
#include "core/ops/indexing.h"
#include "nn/init.h"

namespace qnn::nn {

TransformerBlock::TransformerBlock(int64_t dim, int64_t num_heads, const BlockArgs& args, Generator& gen)
    : Module("Block") {
  QNN_CHECK(args.mlp_ratio > 0.0, "TransformerBlock", "got mlp_ratio " << args.mlp_ratio << " (expected > 0)");
  norm1 = register_module("norm1", std::make_shared<LayerNorm>(Shape{dim}, args.norm_eps));
  attn = register_module(
      "attn", std::make_shared<MultiheadSelfAttention>(
                  dim, num_heads,
                  AttentionArgs{.qkv_bias = args.qkv_bias, .attn_drop = args.attn_drop, .proj_drop = args.drop}, gen));
  drop_path1 = register_module("drop_path1", std::make_shared<DropPath>(args.drop_path, gen));
  norm2 = register_module("norm2", std::make_shared<LayerNorm>(Shape{dim}, args.norm_eps));
  // int(dim * mlp_ratio), as timm.
  const auto hidden = static_cast<int64_t>(static_cast<double>(dim) * args.mlp_ratio);
  mlp = register_module("mlp", std::make_shared<Mlp>(dim, hidden, dim, args.drop, gen));
  drop_path2 = register_module("drop_path2", std::make_shared<DropPath>(args.drop_path, gen));
}

Tensor TransformerBlock::forward(const Tensor& x) {
  const Tensor h = add(x, drop_path1->forward(attn->forward(norm1->forward(x))));
  return add(h, drop_path2->forward(mlp->forward(norm2->forward(h))));
}

VisionTransformer::VisionTransformer(const VitConfig& c, Generator& gen)
    : Module("VisionTransformer"), config(c), num_tokens(c.distilled ? 2 : 1), gen_(gen.next_u64()) {
  const char* op = "VisionTransformer";
  QNN_CHECK(c.num_classes > 0 && c.depth > 0 && c.embed_dim > 0, op,
            "got num_classes " << c.num_classes << ", depth " << c.depth << ", embed_dim " << c.embed_dim
                               << " (expected > 0)");
  QNN_CHECK(c.drop_path_rate >= 0.0f && c.drop_path_rate < 1.0f, op,
            "got drop_path_rate " << c.drop_path_rate << " (expected in [0, 1))");
  const int64_t D = c.embed_dim;
  patch_embed =
      register_module("patch_embed", std::make_shared<PatchEmbed>(c.img_size, c.patch_size, c.in_chans, D, gen_));
  cls_token = register_parameter("cls_token", zeros({1, 1, D}));
  pos_embed = register_parameter("pos_embed", zeros({1, patch_embed->num_patches + num_tokens, D}));
  if (c.distilled)
    dist_token = register_parameter("dist_token", zeros({1, 1, D}));
  pos_drop = register_module("pos_drop", std::make_shared<Dropout>(c.drop_rate, gen_));
  blocks = register_module("blocks", std::make_shared<Sequential>());
  for (int64_t i = 0; i < c.depth; ++i) {
    // Stochastic depth rule: linspace(0, drop_path_rate, depth)[i].
    const float dp = c.depth > 1 ? c.drop_path_rate * static_cast<float>(i) / static_cast<float>(c.depth - 1) : 0.0f;
    blocks->push_back(std::make_shared<TransformerBlock>(D, c.num_heads,
                                                         BlockArgs{.mlp_ratio = c.mlp_ratio,
                                                                   .qkv_bias = c.qkv_bias,
                                                                   .drop = c.drop_rate,
                                                                   .attn_drop = c.attn_drop_rate,
                                                                   .drop_path = dp},
                                                         gen_));
  }
  norm = register_module("norm", std::make_shared<LayerNorm>(Shape{D}, 1e-6f));
  head = register_module("head", std::make_shared<Linear>(D, c.num_classes, true, gen_));
  if (c.distilled)
    head_dist = register_module("head_dist", std::make_shared<Linear>(D, c.num_classes, true, gen_));

  // timm's init_weights / DeiT's: trunc_normal_(std=.02) on the tokens and position embedding,
  // then _init_weights on every Linear (trunc_normal_ std .02, bias 0); LayerNorms are already
  // 1 / 0. timm's bounds a = -2, b = 2 are absolute: at std 0.02 they never bind.
  init::trunc_normal_(pos_embed, 0.0, 0.02, -2.0, 2.0, gen_);
  init::trunc_normal_(cls_token, 0.0, 0.02, -2.0, 2.0, gen_);
  if (c.distilled)
    init::trunc_normal_(dist_token, 0.0, 0.02, -2.0, 2.0, gen_);
  apply([&](Module& m) {
    if (auto* lin = dynamic_cast<Linear*>(&m)) {
      init::trunc_normal_(lin->weight, 0.0, 0.02, -2.0, 2.0, gen_);
      if (lin->bias.defined())
        init::zeros_(lin->bias);
    }
  });
}

Tensor VisionTransformer::forward_features(const Tensor& x) {
  const int64_t B = x.size(0), D = config.embed_dim;
  const Tensor patches = patch_embed->forward(x);  // checks x: [B, C, img, img] -> [B, N, D]
  std::vector<Tensor> tokens{cls_token.expand({B, 1, D})};
  if (config.distilled)
    tokens.push_back(dist_token.expand({B, 1, D}));
  tokens.push_back(patches);
  Tensor t = pos_drop->forward(add(cat(tokens, 1), pos_embed));
  return norm->forward(blocks->forward(t));
}

std::pair<Tensor, Tensor> VisionTransformer::forward_heads(const Tensor& x) {
  const Tensor f = forward_features(x);
  Tensor logits = head->forward(f.select(1, 0));
  Tensor logits_dist = config.distilled ? head_dist->forward(f.select(1, 1)) : Tensor();
  return {logits, logits_dist};
}

Tensor VisionTransformer::forward(const Tensor& x) {
  auto [logits, logits_dist] = forward_heads(x);
  return config.distilled ? div(add(logits, logits_dist), 2.0f) : logits;
}

std::string VisionTransformer::extra_repr() const {
  std::ostringstream s;
  s << "img_size=" << config.img_size << ", patch_size=" << config.patch_size << ", embed_dim=" << config.embed_dim
    << ", depth=" << config.depth << ", num_heads=" << config.num_heads
    << ", distilled=" << (config.distilled ? "True" : "False");
  return s.str();
}

}  // namespace qnn::nn
