#pragma once
// Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p).
#include "core/generator.h"
#include "core/tensor.h"

namespace qnn {

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen = default_generator());

}  // namespace qnn
