#pragma once
// Batch-norm folding (P2 Appendix B, Table 3): a Conv2d followed by a BatchNorm2d in eval mode is
// one affine map, so the BN's scale moves into the conv weights and GPFQ quantizes those:
//   f_conv(x) = w_conv * x + b_conv                                              P2 (48)
//   f_bn(x)   = (x - mu) / sqrt(sigma^2 + eps) * w_bn + b_bn                      P2 (49)
//   w_new = w_conv * w_bn / sqrt(sigma^2 + eps),  b_new = (b_conv - mu) * w_bn / sqrt(sigma^2 + eps) + b_bn   P2 (50)
// (per output channel, running statistics). The main GPFQ results keep BN unfused; folding is an
// experiment of its own with its own C.
//
// So that a folded model keeps its architecture and state_dict names (and loads in `qnn eval`
// like any other), the BN stays in place as a pure bias: mean 0, variance 1 - eps, weight 1,
// bias b_new, which our batch norm computes as exactly y = x + b_new (scale 1.0f, checked); the
// conv's own bias, if any, becomes 0.
#include <string>
#include <vector>

#include "nn/module.h"

namespace qnn::quant {

// Conv/BN pairs of a model: a BatchNorm2d "<p>bnK" after a Conv2d "<p>convK" (same parent), or
// "<p>n" right after a Conv2d "<p>(n-1)" in a Sequential (torchvision's downsample "0", "1"). Module paths, in order.
std::vector<std::pair<std::string, std::string>> conv_bn_pairs(nn::Module& model);

// Folds every pair in place; returns the pairs folded. The model must be in eval mode: folding
// uses the running statistics.
std::vector<std::pair<std::string, std::string>> fold_batchnorm(nn::Module& model);

}  // namespace qnn::quant
