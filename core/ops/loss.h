#pragma once
// softmax, log_softmax, cross-entropy (integer targets, label smoothing, soft targets).
#include "core/tensor.h"

namespace qnn {}  // namespace qnn
