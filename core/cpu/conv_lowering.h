#pragma once
// Internal to conv2d's kernels: how an image is lowered to column tiles (im2col and its adjoint,
// planned once per call), and the per-call scratch and threading helpers the drivers share.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/allocator.h"
#include "core/cpu/conv_gemm.h"
#include "core/cpu/conv_kernels.h"

namespace qnn::cpu::conv {

// A float buffer from the caching allocator for the length of one call.
class Scratch {
 public:
  explicit Scratch(int64_t floats)
      : bytes_(static_cast<size_t>(std::max<int64_t>(floats, 1)) * sizeof(float)),
        data_(static_cast<float*>(cpu_allocate(bytes_))) {}
  ~Scratch() { cpu_deallocate(data_, bytes_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* data() const { return data_; }

 private:
  size_t bytes_;
  float* data_;
};

// Per-thread slices start on their own 4 KiB, so threads never share a cache line.
inline int64_t slice(int64_t floats) { return round_up(std::max<int64_t>(floats, 1), 1024); }

// Threads for a call: one inside a parallel region already, or when the work is too small to pay
// for waking the pool.
inline int threads_for(double flops) { return omp_in_parallel() || flops < 4e6 ? 1 : omp_get_max_threads(); }

// A run of output pixels inside one column tile: `len` columns from tile column `q`, read from the
// source plane at `src` + i * SW (relative to the tap (kh, kw) = (0, 0)).
struct Segment {
  int64_t src;
  int32_t q, len;
};

// A regular tile: kNR / len runs of `len` pixels (8, 16 or 32), the run j at tile column j * len
// and source offset src + j * pitch, contiguous in the source (SW = 1). Its im2col is a few
// fixed-size copies, and when each run holds whole vectors the kernels read its column rows in
// place. len = 0 for any other tile.
struct Runs {
  int32_t len = 0;
  int64_t src = 0, pitch = 0;
};

// Everything about the im2col of one image that does not depend on the data. The source planes
// are the input with its zero border materialized when the convolution pads, so no tap tests
// bounds: the column row k = (c, kh, kw) reads plane c at koff[k] + segment offsets.
struct Lowering {
  int64_t Hp, Wp;             // source plane size (padded)
  int64_t cols;               // columns: output pixels of all the images lowered together
  int64_t T;                  // column tiles (the last one may be partial)
  int64_t kc;                 // rows of the column matrix handled at once (a multiple of kMR)
  std::vector<int64_t> koff;  // per column row: c * Hp * Wp + kh * DH * Wp + kw * DW
  std::vector<Segment> segs;  // per tile, from first[t] to first[t + 1]
  std::vector<int64_t> first;
  // Per tile: whether it is the common regular case (see Runs).
  std::vector<Runs> runs;
};

// Plans the lowering (any stride, padding and dilation) of `images` images, whose source planes
// lie image_stride floats apart, into tiles of kNR columns; tiles run on across images.
Lowering plan_lowering(const ConvShape& s, int64_t images = 1, int64_t image_stride = 0);

// Rows [k0, k1) of column tile t: out[k - k0][q] = the source value under tap k for output pixel
// t * kNR + q; columns past the image's last pixel (cols) are zero.
void im2col_tile(const float* src, const Lowering& l, int64_t t, int64_t cols, int64_t k0, int64_t k1, int64_t SW,
                 float* out);
// The adjoint of im2col_tile: dst (source-plane coordinates) += the rows [k0, k1) of a column tile.
void col2im_tile(const float* in, const Lowering& l, int64_t t, int64_t k0, int64_t k1, int64_t SW, float* dst);

// The source planes of one image and group: x itself, or its copy into planes with a zero border
// (the caller zeroed the border once; only the interior is written here).
const float* source_planes(const float* xg, const ConvShape& s, const Lowering& l, float* planes);

// dst[q * mw + m] = src[m * ld + q] for m < rows, q < cols.
void transpose_block(const float* src, int64_t ld, int64_t rows, int64_t cols, int64_t mw, float* dst);

// dyt[q][m] = dY[m][t * kNR + q] for m < Mg (rows of dyt mw wide), zero for q >= cols. The
// columns m >= Mg are left as they are (zero: the caller cleared them once).
void transpose_tile(const float* dyg, int64_t P, int64_t Mg, int64_t t, int64_t cols, int64_t mw, float* dyt);

// Prefetches part `t` of `parts` of the `floats` floats at p into the caches: spread over the
// tiles of one image, this brings in the next image's input while the current one computes.
inline void prefetch_part(const float* p, int64_t floats, int64_t t, int64_t parts) {
  constexpr int64_t kLine = 64 / sizeof(float);
  const int64_t lines = (floats + kLine - 1) / kLine;
  for (int64_t i = t * lines / parts; i < (t + 1) * lines / parts; ++i)
    __builtin_prefetch(p + i * kLine, 0, 2);
}

}  // namespace qnn::cpu::conv
