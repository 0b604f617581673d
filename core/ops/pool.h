#pragma once
// Pooling (NCHW) and constant padding.
#include <array>
#include <vector>

#include "core/tensor.h"

namespace qnn {

// stride {0, 0} means stride = kernel (as PyTorch's default).
Tensor max_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride = {0, 0},
                  std::array<int64_t, 2> padding = {0, 0});
Tensor avg_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride = {0, 0},
                  std::array<int64_t, 2> padding = {0, 0}, bool count_include_pad = true);
Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size);
// pads = {left, right, top, bottom, ...} from the last dimension backwards, as F.pad; constant mode.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, float value = 0.0f);

}  // namespace qnn
