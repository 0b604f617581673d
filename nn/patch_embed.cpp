#include "nn/patch_embed.h"

namespace qnn::nn {

PatchEmbed::PatchEmbed(int64_t img, int64_t patch, int64_t chans, int64_t dim, Generator& gen)
    : Module("PatchEmbed"), img_size(img), patch_size(patch), in_chans(chans), embed_dim(dim) {
  QNN_CHECK(img > 0 && patch > 0 && img % patch == 0 && chans > 0 && dim > 0, "PatchEmbed",
            "got img_size " << img << ", patch_size " << patch << ", in_chans " << chans << ", embed_dim " << dim
                            << " (expected positive sizes, img_size a multiple of patch_size)");
  grid_size = img / patch;
  num_patches = grid_size * grid_size;
  proj = register_module("proj", std::make_shared<Conv2d>(chans, dim, patch, Conv2dArgs{.stride = patch}, gen));
}

Tensor PatchEmbed::forward(const Tensor& x) {
  QNN_CHECK(x.dim() == 4 && x.size(1) == in_chans && x.size(2) == img_size && x.size(3) == img_size, "PatchEmbed",
            "got input " << shape_str(x.shape()) << " (expected [B, " << in_chans << ", " << img_size << ", "
                         << img_size << "])");
  // [B, D, g, g] -> [B, D, N] -> [B, N, D] (a transposed view; consumers copy as they need).
  return proj->forward(x).flatten(2).transpose(1, 2);
}

std::string PatchEmbed::extra_repr() const {
  return "img_size=" + std::to_string(img_size) + ", patch_size=" + std::to_string(patch_size) +
         ", embed_dim=" + std::to_string(embed_dim) + ", num_patches=" + std::to_string(num_patches);
}

}  // namespace qnn::nn
