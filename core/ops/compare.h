#pragma once
// Comparisons (uint8 results, no gradient), where, maximum and minimum (differentiable).
#include "core/tensor.h"

namespace qnn {

Tensor eq(const Tensor& a, const Tensor& b);  // uint8 0/1, broadcasting
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, float b);
Tensor lt(const Tensor& a, float b);
Tensor gt(const Tensor& a, float b);

// cond (uint8) ? a : b, broadcasting all three; gradients flow to a where cond, to b elsewhere.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// Elementwise max/min; on ties the gradient is split evenly (as PyTorch).
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

}  // namespace qnn
