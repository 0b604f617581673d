#pragma once
// 2-d convolution (NCHW; stride, padding, dilation, groups, bias) with both backward passes.
#include "core/tensor.h"

namespace qnn {}  // namespace qnn
