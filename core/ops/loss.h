#pragma once
// softmax, log_softmax (stable: max subtracted) and cross-entropy.
#include "core/tensor.h"

namespace qnn {

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

enum class Reduction { Mean, Sum, None };

// logits [N, C]. target: int64 class indices [N] (with optional label smoothing), or float32
// class probabilities [N, C] (soft targets, e.g. for mixup). As torch.nn.functional.cross_entropy.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::Mean,
                     float label_smoothing = 0.0f);

}  // namespace qnn
