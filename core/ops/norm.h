#pragma once
// Batch norm and layer norm as fused forward/backward kernels (one node each, not op chains).
#include "core/tensor.h"

namespace qnn {

// x [N, C, *]. Training: normalizes with the batch statistics and, when running_mean/var are
// defined, updates them in place (running = (1 - momentum) * running + momentum * batch, with
// the unbiased batch variance), as PyTorch. Eval: normalizes with the running statistics.
// weight/bias [C] may be undefined (no affine).
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, float momentum = 0.1f, float eps = 1e-5f);

// Normalizes over the trailing dims given by normalized_shape; weight/bias of that shape or undefined.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), float eps = 1e-5f);

}  // namespace qnn
