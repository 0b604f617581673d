#include "nn/attention.h"

#include <cmath>

#include "core/ops/dropout.h"
#include "core/ops/elementwise.h"
#include "core/ops/linalg.h"
#include "core/ops/loss.h"

namespace qnn::nn {

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, float scale, float dropout_p,
                                    bool training, Generator& gen) {
  const char* op = "scaled_dot_product_attention";
  QNN_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, op,
            "got q " << shape_str(q.shape()) << ", k " << shape_str(k.shape()) << ", v " << shape_str(v.shape())
                     << " (expected [B, H, N, d] each)");
  QNN_CHECK(q.shape() == k.shape() && k.shape() == v.shape(), op,
            "got q " << shape_str(q.shape()) << ", k " << shape_str(k.shape()) << ", v " << shape_str(v.shape())
                     << " (expected equal shapes: self-attention)");
  // timm scales q before the product (N x d values instead of N x N).
  const Tensor logits = matmul(mul(q, scale), k.transpose(-2, -1));  // [B, H, N, N]
  const Tensor attn = dropout(softmax(logits, -1), dropout_p, training, gen);
  return matmul(attn, v);
}

MultiheadSelfAttention::MultiheadSelfAttention(int64_t dim_, int64_t heads, const AttentionArgs& args, Generator& gen)
    : Module("Attention"), dim(dim_), num_heads(heads), gen_(&gen) {
  QNN_CHECK(dim > 0 && heads > 0 && dim % heads == 0, "MultiheadSelfAttention",
            "got dim " << dim << ", num_heads " << heads << " (expected positive, dim divisible by num_heads)");
  head_dim = dim / heads;
  scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
  qkv = register_module("qkv", std::make_shared<Linear>(dim, 3 * dim, args.qkv_bias, gen));
  attn_drop = register_module("attn_drop", std::make_shared<Dropout>(args.attn_drop, gen));
  proj = register_module("proj", std::make_shared<Linear>(dim, dim, true, gen));
  proj_drop = register_module("proj_drop", std::make_shared<Dropout>(args.proj_drop, gen));
}

Tensor MultiheadSelfAttention::forward(const Tensor& x) {
  QNN_CHECK(x.dim() == 3 && x.size(2) == dim, "MultiheadSelfAttention",
            "got input " << shape_str(x.shape()) << " (expected [B, N, " << dim << "])");
  const int64_t B = x.size(0), N = x.size(1);
  // qkv(x) [B, N, 3 dim] read as [B, N, 3, H, d] -> [3, B, H, N, d]: views, no copies; matmul
  // reads the strided heads in place.
  const Tensor qkv_heads = qkv->forward(x).reshape({B, N, 3, num_heads, head_dim}).permute({2, 0, 3, 1, 4});
  const Tensor out = scaled_dot_product_attention(qkv_heads.select(0, 0), qkv_heads.select(0, 1),
                                                  qkv_heads.select(0, 2), scale, attn_drop->p, is_training(), *gen_);
  // [B, H, N, d] -> [B, N, H, d] -> [B, N, dim]: heads concatenated per token.
  return proj_drop->forward(proj->forward(out.transpose(1, 2).reshape({B, N, dim})));
}

std::string MultiheadSelfAttention::extra_repr() const {
  return "dim=" + std::to_string(dim) + ", num_heads=" + std::to_string(num_heads) +
         ", head_dim=" + std::to_string(head_dim);
}

}  // namespace qnn::nn
