#pragma once
// From a layer's captured input to the data matrix X of GPFQ: one row per sample, one column per
// weight of a neuron, so that a neuron w (a row of the layer's weight) acts as X w.
//
// Linear: input [*, in] -> rows = the leading indices flattened, X [rows, in].
// Conv2d (P1 sections 2.3 and 3.1 / P2 sections 3.3 and 5.1): the convolution becomes a
// matrix product over vectorized patches. The patches are taken with the layer's kernel, padding
// and dilation but with stride = kernel size, so they are disjoint (the theory needs independent
// columns), and from each image only T = floor(p L) + 1 of its L patches are kept (T = L when
// p = 1), drawn uniformly WITH replacement (the authors' code). A row is the patch in (c, kh, kw)
// order, the order of the weight's flattened row [C_out, C_in, kh, kw] -> [C_out, C_in kh kw].
// The same patch indices must be used for X and X-tilde (row i of both must be the same patch, or
// the state u_t of P2 (8) compares unrelated rows): draw them once with sample_patches and pass
// them to both.
#include <cstdint>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"
#include "nn/conv2d.h"

namespace qnn::quant {

// The disjoint-patch grid of `conv` on an input of H x W: L = Lh * Lw patches per image.
struct PatchGrid {
  int64_t Lh = 0, Lw = 0;
  int64_t per_image() const { return Lh * Lw; }
};
PatchGrid patch_grid(const nn::Conv2d& conv, int64_t H, int64_t W);

// Patch indices for `images` images: T per image (T = floor(p L) + 1, or L when p = 1), each in
// [0, L), drawn with replacement from `gen`. Returned as images * T indices, image-major.
// Throws qnn::Error unless 0 < p <= 1.
std::vector<int64_t> sample_patches(int64_t images, int64_t L, double p, Generator& gen);
int64_t patches_per_image(int64_t L, double p);

// X for a conv layer: rows = the sampled patches of each image of `input` [B, C_in, H, W] (B * T
// rows, image-major), columns = C_in * k * k. `indices` as sample_patches returns them for B
// images.
Tensor conv_patch_matrix(const Tensor& input, const nn::Conv2d& conv, const std::vector<int64_t>& indices);

// X for a Linear layer: input [*, in] -> [rows, in] (contiguous).
Tensor linear_rows(const Tensor& input);

}  // namespace qnn::quant
