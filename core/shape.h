#pragma once
// Shapes and strides: plain vectors of int64, with the few helpers every op needs.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace qnn {

using Shape = std::vector<int64_t>;

int64_t numel_of(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3, 4]"

// NumPy broadcasting of two shapes; throws qnn::Error naming `op` when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Wraps a possibly negative dimension index into [0, ndim); throws naming `op` when out of range.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

}  // namespace qnn
