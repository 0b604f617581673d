#pragma once
// The loop under reductions: for every output element, a kernel reduces the input elements that
// map to it. The reduced dimensions are first merged where possible, so the common cases (last
// dim, or a contiguous block of dims) give the kernel one strided run per output element.
#include <omp.h>

#include <vector>

#include "core/cpu/strided_loop.h"
#include "core/tensor.h"

namespace qnn::cpu {

struct ReduceGeometry {
  std::vector<bool> reduced;         // per input dim
  Shape kept_shape;                  // input shape with reduced dims set to 1 (keepdim=true)
  Shape squeezed_shape;              // reduced dims removed (keepdim=false)
  Shape outer_shape, outer_strides;  // the kept dims, as strides of the input
  Shape inner_shape, inner_strides;  // the reduced dims, coalesced
  int64_t inner_numel = 1;
};

inline ReduceGeometry reduce_geometry(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  ReduceGeometry geo;
  geo.reduced.assign(x.dim(), false);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, x.dim(), op);
    QNN_CHECK(!geo.reduced[w], op, "got dimension " << w << " twice (expected distinct dims)");
    geo.reduced[w] = true;
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    const int64_t s = x.shape()[d];
    geo.kept_shape.push_back(geo.reduced[d] ? 1 : s);
    if (!geo.reduced[d]) {
      geo.squeezed_shape.push_back(s);
      geo.outer_shape.push_back(s);
      geo.outer_strides.push_back(x.strides()[d]);
    } else {
      geo.inner_shape.push_back(s);
      geo.inner_strides.push_back(x.strides()[d]);
      geo.inner_numel *= s;
    }
  }
  const StridedLayout<1> inner = coalesce<1>(geo.inner_shape, {geo.inner_strides});
  geo.inner_shape = inner.shape;
  geo.inner_strides = inner.strides[0];
  return geo;
}

// out[o] = kernel over the inputs of output element o. kernel(p, n, stride) reduces one run of n
// elements; runs of one output are combined with `combine` (for sums: +).
template <class Kernel>
void reduce_loop(const Tensor& x, const ReduceGeometry& geo, float* out, Kernel kernel) {
  const float* base = static_cast<const float*>(x.storage()->data()) + x.offset();
  const int64_t outer = numel_of(geo.outer_shape);
  const int64_t inner_dims = static_cast<int64_t>(geo.inner_shape.size());
  const int64_t run = geo.inner_shape.back(), run_stride = geo.inner_strides.back();
  const int64_t runs = geo.inner_numel / std::max<int64_t>(run, 1);
  const bool parallel = outer > 1 && outer * geo.inner_numel >= kParallelGrain && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t o = 0; o < outer; ++o) {
    int64_t offset = 0, rest = o;
    for (int64_t d = static_cast<int64_t>(geo.outer_shape.size()) - 1; d >= 0; --d) {
      offset += (rest % geo.outer_shape[d]) * geo.outer_strides[d];
      rest /= geo.outer_shape[d];
    }
    if (geo.inner_numel == 0) {
      out[o] = kernel(base, 0, 1);
      continue;
    }
    if (runs == 1) {
      out[o] = kernel(base + offset, run, run_stride);
      continue;
    }
    // Several runs: reduce each, then reduce the partial results with the same kernel.
    std::vector<float> partial(runs);
    for (int64_t r = 0; r < runs; ++r) {
      int64_t inner_offset = 0, rr = r;
      for (int64_t d = inner_dims - 2; d >= 0; --d) {
        inner_offset += (rr % geo.inner_shape[d]) * geo.inner_strides[d];
        rr /= geo.inner_shape[d];
      }
      partial[r] = kernel(base + offset + inner_offset, run, run_stride);
    }
    out[o] = kernel(partial.data(), runs, 1);
  }
}

}  // namespace qnn::cpu
