#include "core/ops/reduce.h"

#include <algorithm>

#include "core/autograd.h"
#include "core/cpu/binary_loop.h"
#include "core/cpu/reduce_loop.h"

namespace qnn {

Tensor sum(const Tensor& x) {
  std::vector<int64_t> dims(x.dim());
  for (int64_t d = 0; d < x.dim(); ++d)
    dims[d] = d;
  return sum(x, dims, false);
}

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  cpu::check_float_cpu("sum", x);
  const cpu::ReduceGeometry geo = cpu::reduce_geometry(x, dims, "sum");
  Tensor out = Tensor::empty(geo.kept_shape, DType::Float32, x.device());
  cpu::reduce_loop(x, geo, out.data<float>(), [](const float* p, int64_t n, int64_t stride) {
    double acc = 0.0;  // double accumulation: sums of millions of floats stay accurate
    for (int64_t i = 0; i < n; ++i)
      acc += p[i * stride];
    return static_cast<float>(acc);
  });
  Tensor result = keepdim ? out : out.view(geo.squeezed_shape);
  record("sum", result, {x}, [in_shape = x.shape(), kept = geo.kept_shape](const Tensor& g) {
    return std::vector<Tensor>{g.reshape(kept).expand(in_shape)};
  });
  return result;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape)
    return g;
  QNN_CHECK(shape.size() <= g.shape().size(), "sum_to",
            "cannot sum " << shape_str(g.shape()) << " to " << shape_str(shape) << " (expected fewer dims)");
  const size_t lead = g.shape().size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t i = 0; i < g.shape().size(); ++i) {
    if (i < lead) {
      dims.push_back(static_cast<int64_t>(i));
    } else if (shape[i - lead] == 1 && g.shape()[i] != 1) {
      dims.push_back(static_cast<int64_t>(i));
    } else {
      QNN_CHECK(shape[i - lead] == g.shape()[i], "sum_to",
                "cannot sum " << shape_str(g.shape()) << " to " << shape_str(shape) << " (expected a broadcast of it)");
    }
  }
  return sum(g, dims, true).reshape(shape);
}

}  // namespace qnn
