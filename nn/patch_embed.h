#pragma once
// nn::PatchEmbed: image to patch tokens, as timm's `PatchEmbed`: a Conv2d `proj` with
// kernel = stride = patch size cuts the image into non-overlapping patches and projects each to
// embed_dim; the grid is flattened row-major into a sequence: [B, C, H, W] -> [B, N, D] with
// N = (H / patch) * (W / patch).
#include <memory>

#include "core/generator.h"
#include "nn/conv2d.h"

namespace qnn::nn {

class PatchEmbed : public Module {
 public:
  // img_size must be a multiple of patch_size; the input must be img_size x img_size (timm's
  // strict_img_size), since a ViT's position embedding is sized for that grid. proj keeps
  // Conv2d's PyTorch initialization (as timm's ViT does).
  PatchEmbed(int64_t img_size, int64_t patch_size, int64_t in_chans, int64_t embed_dim,
             Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  int64_t img_size, patch_size, in_chans, embed_dim;
  int64_t grid_size;    // img_size / patch_size
  int64_t num_patches;  // grid_size^2
  std::shared_ptr<Conv2d> proj;
};

}  // namespace qnn::nn
