#pragma once
// Batch norm and layer norm as fused forward/backward kernels.
#include "core/tensor.h"

namespace qnn {}  // namespace qnn
