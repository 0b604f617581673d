#include "quant/ptq/layer_data.h"

#include <cmath>

#include "core/error.h"
#include "core/shape.h"

namespace qnn::quant {

PatchGrid patch_grid(const nn::Conv2d& conv, int64_t H, int64_t W) {
  const int64_t k = conv.kernel_size, pad = conv.args.padding, d = conv.args.dilation;
  // Output size of nn.Unfold(k, dilation d, padding pad, stride k).
  auto count = [&](int64_t n) { return (n + 2 * pad - d * (k - 1) - 1) / k + 1; };
  PatchGrid g{count(H), count(W)};
  QNN_CHECK(g.Lh > 0 && g.Lw > 0, "patch_grid",
            "got a " << H << "x" << W << " input for kernel " << k << " (expected at least one patch)");
  return g;
}

int64_t patches_per_image(int64_t L, double p) {
  QNN_CHECK(p > 0 && p <= 1, "sample_patches", "got p = " << p << " (expected 0 < p <= 1)");
  if (p == 1)
    return L;
  return static_cast<int64_t>(std::floor(p * static_cast<double>(L))) + 1;  // int(p L + 1), the authors' T
}

std::vector<int64_t> sample_patches(int64_t images, int64_t L, double p, Generator& gen) {
  const int64_t T = patches_per_image(L, p);
  std::vector<int64_t> idx(images * T);
  for (int64_t b = 0; b < images; ++b)
    for (int64_t t = 0; t < T; ++t)
      idx[b * T + t] = (p == 1) ? t : gen.integer(0, L);
  return idx;
}

Tensor conv_patch_matrix(const Tensor& input, const nn::Conv2d& conv, const std::vector<int64_t>& indices) {
  const char* op = "conv_patch_matrix";
  QNN_CHECK(input.dim() == 4 && input.size(1) == conv.in_channels, op,
            "got input " << shape_str(input.shape()) << " (expected [B, " << conv.in_channels << ", H, W])");
  const Tensor x = input.contiguous();
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t k = conv.kernel_size, pad = conv.args.padding, d = conv.args.dilation;
  const PatchGrid grid = patch_grid(conv, H, W);
  const int64_t L = grid.per_image();
  QNN_CHECK(B > 0 && static_cast<int64_t>(indices.size()) % B == 0, op,
            "got " << indices.size() << " patch indices for " << B << " images (expected T per image)");
  const int64_t T = static_cast<int64_t>(indices.size()) / B, cols = C * k * k;
  for (int64_t l : indices)
    QNN_CHECK(l >= 0 && l < L, op, "got patch index " << l << " (expected 0 <= index < " << L << ")");
  Tensor out = Tensor::empty({B * T, cols});
  const float* src = x.data<float>();
  float* dst = out.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < B * T; ++r) {
    const int64_t b = r / T, l = indices[r];
    const int64_t y0 = (l / grid.Lw) * k - pad, x0 = (l % grid.Lw) * k - pad;  // stride = k
    float* row = dst + r * cols;
    for (int64_t c = 0; c < C; ++c) {
      const float* plane = src + (b * C + c) * H * W;
      for (int64_t i = 0; i < k; ++i) {
        const int64_t y = y0 + i * d;
        for (int64_t j = 0; j < k; ++j) {
          const int64_t xx = x0 + j * d;
          *row++ = (y >= 0 && y < H && xx >= 0 && xx < W) ? plane[y * W + xx] : 0.0f;
        }
      }
    }
  }
  return out;
}

Tensor linear_rows(const Tensor& input) {
  QNN_CHECK(input.dim() >= 1, "linear_rows", "got a 0-d input (expected [*, in])");
  const int64_t in = input.size(-1);
  return input.contiguous().reshape({-1, in}).contiguous();
}

}  // namespace qnn::quant
