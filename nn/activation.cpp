#include "nn/activation.h"

#include "core/ops/unary.h"

namespace qnn::nn {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor GELU::forward(const Tensor& x) { return gelu(x); }

}  // namespace qnn::nn
