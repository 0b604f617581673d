#pragma once
// Raw loops behind cat, index_select, gather and their gradients. Tensors are seen as
// [outer, dim_size, inner] around the indexed dimension; the copy kernels move raw elements of
// `elem` bytes (1, 4 or 8), so they serve every dtype. Indices are validated by the caller.
#include <cstddef>
#include <cstdint>

namespace qnn::cpu {

// dst[o, offset + r, :] = src[o, r, :] for r < src_rows; dst has dst_rows rows. Contiguous.
void copy_rows(const void* src, void* dst, int64_t outer, int64_t src_rows, int64_t dst_rows, int64_t offset,
               int64_t inner, size_t elem);

// dst[o, j, :] = src[o, index[j], :] for j < n; src has src_rows rows. Contiguous.
void select_rows(const void* src, void* dst, int64_t outer, int64_t src_rows, int64_t inner, const int64_t* index,
                 int64_t n, size_t elem);

// dst[o, index[j], :] += src[o, j, :] (dst zero-initialized by the caller). Deterministic.
void index_add_rows(const float* src, float* dst, int64_t outer, int64_t dst_rows, int64_t inner, const int64_t* index,
                    int64_t n);

// Geometry for gather/scatter_add along `dim`: the index tensor's shape (contiguous), and the
// strides of the tensor that is read (gather) or written (scatter).
struct GatherGeometry {
  const int64_t* shape;    // index shape, `ndim` entries
  const int64_t* strides;  // strides of the data tensor, `ndim` entries
  int64_t ndim, dim;
};

// out[i] = x[i with coordinate `dim` replaced by index[i]]; out, index contiguous; x strided.
void gather_float(const float* x, const int64_t* index, float* out, const GatherGeometry& g);

// dx[i with coordinate `dim` replaced by index[i]] += grad[i]; grad, index contiguous.
void scatter_add_float(const float* grad, const int64_t* index, float* dx, const GatherGeometry& g);

}  // namespace qnn::cpu
