#include "core/cpu/indexing_kernels.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "core/cpu/strided_loop.h"

namespace qnn::cpu {
namespace {

bool go_parallel(int64_t work) { return work >= kParallelGrain && !omp_in_parallel(); }

// Copies n elements of `elem` bytes: a memcpy for long runs, a typed loop for single elements.
inline void copy_elems(const char* src, char* dst, int64_t n, size_t elem) {
  if (n == 1) {
    switch (elem) {
      case 8:
        *reinterpret_cast<uint64_t*>(dst) = *reinterpret_cast<const uint64_t*>(src);
        return;
      case 4:
        *reinterpret_cast<uint32_t*>(dst) = *reinterpret_cast<const uint32_t*>(src);
        return;
      default:
        break;
    }
  }
  std::memcpy(dst, src, static_cast<size_t>(n) * elem);
}

}  // namespace

void copy_rows(const void* src, void* dst, int64_t outer, int64_t src_rows, int64_t dst_rows, int64_t offset,
               int64_t inner, size_t elem) {
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  const int64_t block = src_rows * inner;  // contiguous elements per outer index
#pragma omp parallel for schedule(static) if (go_parallel(outer * block) && outer > 1)
  for (int64_t o = 0; o < outer; ++o)
    copy_elems(s + o * block * elem, d + (o * dst_rows + offset) * inner * elem, block, elem);
}

void select_rows(const void* src, void* dst, int64_t outer, int64_t src_rows, int64_t inner, const int64_t* index,
                 int64_t n, size_t elem) {
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  // One task per (o, j) row: parallel also when outer == 1 (embedding lookups).
#pragma omp parallel for schedule(static) if (go_parallel(outer * n * inner))
  for (int64_t t = 0; t < outer * n; ++t) {
    const int64_t o = t / n, j = t % n;
    copy_elems(s + (o * src_rows + index[j]) * inner * elem, d + t * inner * elem, inner, elem);
  }
}

void index_add_rows(const float* src, float* dst, int64_t outer, int64_t dst_rows, int64_t inner, const int64_t* index,
                    int64_t n) {
  // Rows with equal indices collide, so the order over j is kept serial; parallel over outer when
  // there is one, else over column chunks of the rows (both keep each sum's order fixed).
  const int64_t chunks = outer > 1 ? 1 : std::max<int64_t>(1, std::min<int64_t>(inner / 1024, 64));
#pragma omp parallel for collapse(2) schedule(static) if (go_parallel(outer * n * inner) && outer * chunks > 1)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t k0 = inner * c / chunks, k1 = inner * (c + 1) / chunks;
      for (int64_t j = 0; j < n; ++j) {
        const float* s = src + (o * n + j) * inner;
        float* d = dst + (o * dst_rows + index[j]) * inner;
#pragma omp simd
        for (int64_t k = k0; k < k1; ++k)
          d[k] += s[k];
      }
    }
}

namespace {

// Calls fn(i, data_offset) for every element i of the index tensor (row-major), where
// data_offset is the element offset into the data tensor with coordinate `dim` from index[i].
template <class Fn>
void for_each_gathered(const int64_t* index, const GatherGeometry& g, Fn fn) {
  int64_t total = 1;
  for (int64_t d = 0; d < g.ndim; ++d)
    total *= g.shape[d];
  if (total == 0)
    return;
  int64_t coord[16] = {};
  int64_t base = 0;  // offset of the current coordinates with coordinate `dim` taken as 0
  for (int64_t i = 0; i < total; ++i) {
    fn(i, base + index[i] * g.strides[g.dim]);
    for (int64_t d = g.ndim - 1; d >= 0; --d) {  // odometer increment
      if (++coord[d] < g.shape[d]) {
        if (d != g.dim)
          base += g.strides[d];
        break;
      }
      if (d != g.dim)
        base -= (g.shape[d] - 1) * g.strides[d];
      coord[d] = 0;
    }
  }
}

}  // namespace

void gather_float(const float* x, const int64_t* index, float* out, const GatherGeometry& g) {
  for_each_gathered(index, g, [&](int64_t i, int64_t off) { out[i] = x[off]; });
}

void scatter_add_float(const float* grad, const int64_t* index, float* dx, const GatherGeometry& g) {
  for_each_gathered(index, g, [&](int64_t i, int64_t off) { dx[off] += grad[i]; });
}

}  // namespace qnn::cpu
