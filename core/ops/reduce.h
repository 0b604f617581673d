#pragma once
// Reductions over any set of dimensions, with keepdim.
#include <vector>

#include "core/tensor.h"

namespace qnn {

Tensor sum(const Tensor& x);  // all elements -> 0-d
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
// Sums a broadcast gradient back to `shape` (the inverse of broadcasting `shape` to g's shape).
Tensor sum_to(const Tensor& g, const Shape& shape);

Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
// Variance with Bessel's correction by default (correction = 1), as torch.var.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction = 1, bool keepdim = false);

struct ValuesIndices {
  Tensor values;   // float32, differentiable (gradient to the first arg-extremum)
  Tensor indices;  // int64
};
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);  // over all elements
Tensor min(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
// p-norm over all elements (p = 1, 2, or INFINITY), or over dims.
Tensor norm(const Tensor& x, float p = 2.0f);
Tensor norm(const Tensor& x, float p, const std::vector<int64_t>& dims, bool keepdim = false);

}  // namespace qnn
