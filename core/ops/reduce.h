#pragma once
// Reductions over any set of dimensions, with keepdim.
#include <vector>

#include "core/tensor.h"

namespace qnn {

Tensor sum(const Tensor& x);  // all elements -> 0-d
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
// Sums a broadcast gradient back to `shape` (the inverse of broadcasting `shape` to g's shape).
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace qnn
