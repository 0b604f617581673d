#pragma once
// cat, stack, index_select, gather, one_hot, masked_fill.
#include "core/tensor.h"

namespace qnn {}  // namespace qnn
