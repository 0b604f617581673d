#pragma once
// Dropout (seeded).
#include "core/tensor.h"

namespace qnn {}  // namespace qnn
