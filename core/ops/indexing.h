#pragma once
// Joining and indexing: cat, stack, index_select, gather, one_hot, masked_fill.
#include <vector>

#include "core/tensor.h"

namespace qnn {

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);  // index: int64 1-d
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);        // index: int64, x's rank
Tensor one_hot(const Tensor& labels, int64_t num_classes);               // int64 -> float32 [..., C]
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);    // mask: uint8, broadcast

}  // namespace qnn
