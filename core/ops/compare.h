#pragma once
// Comparisons (no gradient), where, maximum, minimum.
#include "core/tensor.h"

namespace qnn {}  // namespace qnn
