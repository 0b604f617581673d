#pragma once
// Gradient clipping by the global L2 norm, as torch.nn.utils.clip_grad_norm_ (norm type 2).
#include <vector>

#include "core/tensor.h"

namespace qnn::optim {

// The L2 norm of all gradients together, sqrt(sum_p sum_i g_pi^2), accumulated in double in a
// fixed order (the same value with any thread count). Parameters without a gradient count as 0.
double grad_norm(const std::vector<Tensor>& params);

// Scales every gradient by max_norm / (total + 1e-6) when that is below 1 (PyTorch's rule: the
// 1e-6 keeps the division finite) and returns the total norm before clipping. A non-finite total
// throws qnn::Error when error_if_nonfinite, else scales (the gradients become NaN, as in PyTorch).
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, bool error_if_nonfinite = false);

}  // namespace qnn::optim
