#pragma once
// The loop under every elementwise CPU kernel: walks K tensors of one (broadcast) shape with their
// own strides. Adjacent dimensions that are contiguous in all K tensors are merged first, so a
// contiguous tensor becomes one flat loop; then the work is split across OpenMP threads, either
// over rows (outer index) or, for a single flat row, over chunks of it.
//
// fn(offsets, n, inner_strides) processes n elements of the innermost dimension, starting at
// element offset offsets[k] of tensor k and stepping by inner_strides[k].
#include <omp.h>

#include <array>
#include <cstdint>
#include <vector>

#include "core/shape.h"

namespace qnn::cpu {

constexpr int64_t kParallelGrain = 32768;  // elements below which a loop stays single-threaded

template <size_t K>
struct StridedLayout {
  Shape shape;
  std::array<Shape, K> strides;
};

// Drops size-1 dimensions and merges dimensions that are contiguous with their inner neighbour
// in every tensor.
template <size_t K>
StridedLayout<K> coalesce(const Shape& shape, const std::array<Shape, K>& strides) {
  StridedLayout<K> out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    bool merge = !out.shape.empty();
    for (size_t k = 0; k < K && merge; ++k)
      merge = out.strides[k].back() == strides[k][d] * shape[d];
    if (merge) {
      out.shape.back() *= shape[d];
      for (size_t k = 0; k < K; ++k)
        out.strides[k].back() = strides[k][d];
    } else {
      out.shape.push_back(shape[d]);
      for (size_t k = 0; k < K; ++k)
        out.strides[k].push_back(strides[k][d]);
    }
  }
  if (out.shape.empty()) {  // a scalar, or all sizes 1
    out.shape.push_back(1);
    for (size_t k = 0; k < K; ++k)
      out.strides[k].push_back(0);
  }
  return out;
}

template <size_t K, class Fn>
void strided_loop(const Shape& shape, const std::array<Shape, K>& strides, const std::array<int64_t, K>& base,
                  Fn&& fn) {
  const int64_t total = numel_of(shape);
  if (total == 0)
    return;
  const StridedLayout<K> layout = coalesce<K>(shape, strides);
  const int64_t ndim = static_cast<int64_t>(layout.shape.size());
  const int64_t inner = layout.shape.back();
  std::array<int64_t, K> inner_strides;
  for (size_t k = 0; k < K; ++k)
    inner_strides[k] = layout.strides[k].back();
  const bool parallel = total >= kParallelGrain && !omp_in_parallel();

  if (ndim == 1) {  // one flat row: split it in chunks
    const int64_t chunks = parallel ? std::min<int64_t>(omp_get_max_threads() * 4, total / 4096 + 1) : 1;
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t begin = inner * c / chunks, end = inner * (c + 1) / chunks;
      std::array<int64_t, K> offsets;
      for (size_t k = 0; k < K; ++k)
        offsets[k] = base[k] + begin * inner_strides[k];
      fn(offsets, end - begin, inner_strides);
    }
    return;
  }
  const int64_t rows = total / inner;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t row = 0; row < rows; ++row) {
    std::array<int64_t, K> offsets = base;
    int64_t rest = row;
    for (int64_t d = ndim - 2; d >= 0; --d) {
      const int64_t i = rest % layout.shape[d];
      rest /= layout.shape[d];
      for (size_t k = 0; k < K; ++k)
        offsets[k] += i * layout.strides[k][d];
    }
    fn(offsets, inner, inner_strides);
  }
}

}  // namespace qnn::cpu
