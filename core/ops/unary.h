#pragma once
// Elementwise unary math (neg, exp, log, sqrt, rsqrt, abs, sign, tanh, sigmoid, relu, gelu, pow, clamp) and their
// in-place forms.
#include "core/tensor.h"

namespace qnn {}  // namespace qnn
