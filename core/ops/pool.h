#pragma once
// Max/avg pooling 2d, adaptive average pooling, padding.
#include "core/tensor.h"

namespace qnn {}  // namespace qnn
