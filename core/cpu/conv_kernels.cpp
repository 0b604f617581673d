#include "core/cpu/conv_kernels.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/allocator.h"
#include "core/cpu/conv_gemm.h"

namespace qnn::cpu {
namespace {

using conv::Init;
using conv::kLanes;
using conv::kMR;
using conv::kNR;
using conv::Layout;
using conv::Operand;
using conv::round_up;

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
int64_t slice(int64_t floats) { return round_up(std::max<int64_t>(floats, 1), 1024); }

// Threads for a call: one inside a parallel region already, or when the work is too small to pay
// for waking the pool.
int threads_for(double flops) { return omp_in_parallel() || flops < 4e6 ? 1 : omp_get_max_threads(); }

// A run of output pixels inside one column tile: `len` columns from tile column `q`, read from the
// source plane at `src` + i * SW (relative to the tap (kh, kw) = (0, 0)).
struct Segment {
  int64_t src;
  int32_t q, len;
};

// A regular tile: kNR / len runs of `len` pixels (8, 16 or 32), the run j at tile column j * len
// and source offset src + j * pitch, contiguous in the source (SW = 1). Its im2col is a few
// fixed-size copies, and with len 16 or 32 the kernels read its column rows in place. len = 0 for
// any other tile.
struct Runs {
  int32_t len = 0;
  int64_t src = 0, pitch = 0;
};

// Everything about the im2col of one image that does not depend on the data. The source planes
// are the input with its zero border materialized when the convolution pads, so no tap tests
// bounds: the column row k = (c, kh, kw) reads plane c at koff[k] + segment offsets.
struct Lowering {
  int64_t Hp, Wp;             // source plane size (padded)
  int64_t T;                  // column tiles per image
  int64_t kc;                 // rows of the column matrix handled at once (a multiple of kMR)
  std::vector<int64_t> koff;  // per column row: c * Hp * Wp + kh * DH * Wp + kw * DW
  std::vector<Segment> segs;  // per tile, from first[t] to first[t + 1]
  std::vector<int64_t> first;
  // Per tile: whether it is the common regular case (see Runs).
  std::vector<Runs> runs;
};

Runs regular_runs(const Lowering& l, int64_t t, int64_t SW) {
  const Segment* g = l.segs.data() + l.first[t];
  const int64_t n = l.first[t + 1] - l.first[t];
  if (SW != 1 || n == 0)
    return {};
  const Runs r{g[0].len, g[0].src, n > 1 ? g[1].src - g[0].src : 0};
  if ((r.len != 8 && r.len != 16 && r.len != 32) || n * r.len != kNR)
    return {};
  for (int64_t j = 0; j < n; ++j)
    if (g[j].len != r.len || g[j].q != j * r.len || g[j].src != r.src + j * r.pitch)
      return {};
  return r;
}

// Rows of the column matrix per block: the block of a column tile (kc x kNR floats) stays in L1
// while every weight panel passes over it.
constexpr int64_t kMaxBlockRows = 256;

Lowering plan_lowering(const ConvShape& s) {
  Lowering l;
  l.Hp = s.H + 2 * s.PH;
  l.Wp = s.W + 2 * s.PW;
  const int64_t P = s.P(), Kg = s.Kg();
  l.T = (P + kNR - 1) / kNR;
  const int64_t blocks = std::max<int64_t>(1, (Kg + kMaxBlockRows - 1) / kMaxBlockRows);
  l.kc = std::max<int64_t>(kMR, round_up((Kg + blocks - 1) / blocks, kMR));
  for (int64_t c = 0; c < s.Cg(); ++c)
    for (int64_t kh = 0; kh < s.KH; ++kh)
      for (int64_t kw = 0; kw < s.KW; ++kw)
        l.koff.push_back(c * l.Hp * l.Wp + kh * s.DH * l.Wp + kw * s.DW);
  l.first.push_back(0);
  int64_t p = 0;
  for (int64_t oh = 0; oh < s.OH; ++oh)
    for (int64_t ow = 0; ow < s.OW;) {
      const int64_t q = p % kNR, n = std::min<int64_t>(s.OW - ow, kNR - q);
      const int64_t src = oh * s.SH * l.Wp + ow * s.SW;
      Segment* last = l.segs.empty() ? nullptr : &l.segs.back();
      if (q > 0 && last && last->src + last->len * s.SW == src)  // continues the previous run (1x1 convs)
        last->len += static_cast<int32_t>(n);
      else
        l.segs.push_back({src, static_cast<int32_t>(q), static_cast<int32_t>(n)});
      ow += n;
      p += n;
      if (p % kNR == 0)
        l.first.push_back(static_cast<int64_t>(l.segs.size()));
    }
  if (P % kNR)
    l.first.push_back(static_cast<int64_t>(l.segs.size()));
  for (int64_t t = 0; t < l.T; ++t)
    l.runs.push_back(regular_runs(l, t, s.SW));
  return l;
}

// d[i] = s[i * stride] for i < n; the common contiguous widths get fixed-size copies the compiler
// turns into straight vector moves.
using V16 = float __attribute__((vector_size(16 * sizeof(float))));

// Stride 2 (downsampling convolutions): 16 outputs from the 31 floats s[0..30], read as s[0..15]
// and s[15..30] so nothing past the last element used is touched.
inline void gather_stride2(float* d, const float* s, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    V16 lo, hi;
    std::memcpy(&lo, s + 2 * i, sizeof lo);
    std::memcpy(&hi, s + 2 * i + 15, sizeof hi);
    const V16 even = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 17, 19, 21, 23, 25, 27, 29, 31);
    std::memcpy(d + i, &even, sizeof even);
  }
  for (; i < n; ++i)
    d[i] = s[2 * i];
}

inline void gather(float* d, const float* s, int64_t n, int64_t stride) {
  if (stride == 2)
    return gather_stride2(d, s, n);
  if (stride != 1) {
    for (int64_t i = 0; i < n; ++i)
      d[i] = s[i * stride];
    return;
  }
  switch (n) {
    case 32:
      std::memcpy(d, s, 32 * sizeof(float));
      return;
    case 16:
      std::memcpy(d, s, 16 * sizeof(float));
      return;
    case 8:
      std::memcpy(d, s, 8 * sizeof(float));
      return;
    default:
      std::memcpy(d, s, static_cast<size_t>(n) * sizeof(float));
  }
}
// The adjoint: d[i * stride] += s[i].
// Stride 2: d[0..30] (as d[0..15] and d[15..30]) gets 16 values of s added at even positions.
inline void scatter_add_stride2(float* d, const float* s, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    V16 lo, hi, v;
    std::memcpy(&lo, d + 2 * i, sizeof lo);
    std::memcpy(&hi, d + 2 * i + 15, sizeof hi);
    std::memcpy(&v, s + i, sizeof v);
    const V16 zero{};
    lo += __builtin_shufflevector(v, zero, 0, 16, 1, 16, 2, 16, 3, 16, 4, 16, 5, 16, 6, 16, 7, 16);
    hi += __builtin_shufflevector(v, zero, 16, 8, 16, 9, 16, 10, 16, 11, 16, 12, 16, 13, 16, 14, 16, 15);
    std::memcpy(d + 2 * i, &lo, sizeof lo);  // d[15] is in both, unchanged by either
    std::memcpy(d + 2 * i + 15, &hi, sizeof hi);
  }
  for (; i < n; ++i)
    d[2 * i] += s[i];
}

inline void scatter_add(float* d, const float* s, int64_t n, int64_t stride) {
  if (stride == 2)
    return scatter_add_stride2(d, s, n);
  if (stride != 1) {
    for (int64_t i = 0; i < n; ++i)
      d[i * stride] += s[i];
    return;
  }
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    d[i] += s[i];
}

// Rows [k0, k1) of column tile t: out[k - k0][q] = the source value under tap k for output pixel
// t * kNR + q. Columns past the image's last pixel are zero.
// Uniform tiles: kNR / L runs of L floats, `pitch` apart in the source.
template <int L>
void im2col_regular(const float* src, const int64_t* koff, int64_t k0, int64_t k1, int64_t pitch, float* out) {
  for (int64_t k = k0; k < k1; ++k) {
    const float* base = src + koff[k];
    float* d = out + (k - k0) * kNR;
#pragma GCC unroll 4
    for (int j = 0; j < kNR / L; ++j)
      std::memcpy(d + j * L, base + j * pitch, L * sizeof(float));
  }
}

void im2col_tile(const float* src, const Lowering& l, int64_t t, int64_t cols, int64_t k0, int64_t k1, int64_t SW,
                 float* out) {
  const Runs& r = l.runs[t];
  switch (r.len) {
    case 32:
      return im2col_regular<32>(src + r.src, l.koff.data(), k0, k1, r.pitch, out);
    case 16:
      return im2col_regular<16>(src + r.src, l.koff.data(), k0, k1, r.pitch, out);
    case 8:
      return im2col_regular<8>(src + r.src, l.koff.data(), k0, k1, r.pitch, out);
    default:
      break;
  }
  const Segment* begin = l.segs.data() + l.first[t];
  const Segment* end = l.segs.data() + l.first[t + 1];
  for (int64_t k = k0; k < k1; ++k) {
    const float* base = src + l.koff[k];
    float* d = out + (k - k0) * kNR;
    for (const Segment* g = begin; g != end; ++g)
      gather(d + g->q, base + g->src, g->len, SW);
    if (cols < kNR)
      std::fill(d + cols, d + kNR, 0.0f);
  }
}

// The adjoint of im2col_tile: dst (source-plane coordinates) += the rows [k0, k1) of a column tile.
void col2im_tile(const float* in, const Lowering& l, int64_t t, int64_t k0, int64_t k1, int64_t SW, float* dst) {
  const Segment* begin = l.segs.data() + l.first[t];
  const Segment* end = l.segs.data() + l.first[t + 1];
  for (int64_t k = k0; k < k1; ++k) {
    float* base = dst + l.koff[k];
    const float* r = in + (k - k0) * kNR;
    for (const Segment* g = begin; g != end; ++g)
      scatter_add(base + g->src, r + g->q, g->len, SW);
  }
}

// Prefetches part `t` of `parts` of the `floats` floats at p into the caches: spread over the
// tiles of one image, this brings in the next image's input while the current one computes.
inline void prefetch_part(const float* p, int64_t floats, int64_t t, int64_t parts) {
  constexpr int64_t kLine = 64 / sizeof(float);
  const int64_t lines = (floats + kLine - 1) / kLine;
  for (int64_t i = t * lines / parts; i < (t + 1) * lines / parts; ++i)
    __builtin_prefetch(p + i * kLine, 0, 2);
}

// The source planes of one image and group: x itself, or its copy into planes with a zero border
// (the caller zeroed the border once; only the interior is written here).
const float* source_planes(const float* xg, const ConvShape& s, const Lowering& l, float* planes) {
  if (s.PH == 0 && s.PW == 0)
    return xg;
  for (int64_t c = 0; c < s.Cg(); ++c)
    for (int64_t h = 0; h < s.H; ++h) {  // short rows: an inline loop beats a call to memcpy
      float* d = planes + (c * l.Hp + h + s.PH) * l.Wp + s.PW;
      const float* r = xg + (c * s.H + h) * s.W;
#pragma omp simd
      for (int64_t i = 0; i < s.W; ++i)
        d[i] = r[i];
    }
  return planes;
}

using V8 = float __attribute__((vector_size(8 * sizeof(float))));

// Transposes the 8 x 8 block r[i][j] in place (unpack pairs, then quads, then halves).
inline void transpose8(V8 r[8]) {
  V8 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4)
    for (int h = 0; h < 2; ++h) {
      u[i + 2 * h] = __builtin_shufflevector(t[i + h], t[i + 2 + h], 0, 1, 8, 9, 4, 5, 12, 13);
      u[i + 2 * h + 1] = __builtin_shufflevector(t[i + h], t[i + 2 + h], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  for (int i = 0; i < 4; ++i) {
    r[i] = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    r[i + 4] = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

// dyt[q][m] = dY[m][t * kNR + q] for m < Mg (rows of dyt mw wide), zero for q >= cols. The
// columns m >= Mg are left as they are (zero: the caller cleared them once).
void transpose_tile(const float* dyg, int64_t P, int64_t Mg, int64_t t, int64_t cols, int64_t mw, float* dyt) {
  const float* base = dyg + t * kNR;
  int64_t m0 = 0;
  if (cols == kNR)
    for (; m0 + 8 <= Mg; m0 += 8)
      for (int64_t q0 = 0; q0 < kNR; q0 += 8) {
        V8 r[8];
        for (int i = 0; i < 8; ++i)
          std::memcpy(&r[i], base + (m0 + i) * P + q0, sizeof(V8));
        transpose8(r);
        for (int i = 0; i < 8; ++i)
          std::memcpy(dyt + (q0 + i) * mw + m0, &r[i], sizeof(V8));
      }
  for (; m0 < Mg; ++m0)  // the rest, and partial tiles, one by one
    for (int64_t q = 0; q < kNR; ++q)
      dyt[q * mw + m0] = q < cols ? base[m0 * P + q] : 0.0f;
}

// The weight gradient of one image and group, accumulated transposed: dwt[k][m] += sum over
// output pixels p of Col[k][p] * dY[m][p] (mw = Mg rounded up to whole vectors). dyt holds dY^T
// of one tile; its columns past Mg must be zero. next_x and next_dy (or null) are prefetched.
void weight_grad_image(const float* src, const float* dyg, const ConvShape& s, const Lowering& l, int64_t mw,
                       float* dyt, float* col, float* dwt, const float* next_x, const float* next_dy) {
  const int64_t P = s.P(), Mg = s.Mg(), Kg = s.Kg();
  for (int64_t t = 0; t < l.T; ++t) {
    if (next_x) {
      prefetch_part(next_x, s.Cg() * s.H * s.W, t, l.T);
      prefetch_part(next_dy, Mg * P, t, l.T);
    }
    const int64_t cols = std::min<int64_t>(kNR, P - t * kNR);
    transpose_tile(dyg, P, Mg, t, cols, mw, dyt);
    const Runs& r = l.runs[t];
    for (int64_t m0 = 0; m0 < mw; m0 += 2 * kLanes) {
      float* c = dwt + m0;
      const bool two = mw - m0 >= 2 * kLanes;
      if (r.len >= 16) {  // Col's rows read in place (8-wide runs cost more in accumulator traffic than a copy)
        for (int64_t j = 0; j < kNR / r.len; ++j) {
          const Operand a{src + r.src + j * r.pitch, 0, l.koff.data()}, b{dyt + j * r.len * mw + m0, mw};
          if (two)
            conv::rows_product<2, Layout::kOffsets, Layout::kStrided>(Kg, r.len, a, b, c, mw, Init::kLoad, nullptr);
          else
            conv::rows_product<1, Layout::kOffsets, Layout::kStrided>(Kg, r.len, a, b, c, mw, Init::kLoad, nullptr);
        }
        continue;
      }
      for (int64_t k0 = 0; k0 < Kg; k0 += l.kc) {
        const int64_t k1 = std::min(Kg, k0 + l.kc);
        im2col_tile(src, l, t, cols, k0, k1, s.SW, col);
        const Operand a{col, kNR}, b{dyt + m0, mw};
        if (two)
          conv::rows_product<2, Layout::kStrided, Layout::kStrided>(k1 - k0, kNR, a, b, c + k0 * mw, mw, Init::kLoad,
                                                                    nullptr);
        else
          conv::rows_product<1, Layout::kStrided, Layout::kStrided>(k1 - k0, kNR, a, b, c + k0 * mw, mw, Init::kLoad,
                                                                    nullptr);
      }
    }
  }
}

// The input gradient of one image and group by col2im (any stride): Col = W^T dY one column
// tile at a time, scattered onto the source planes `dplanes` (zeroed by the caller).
void input_grad_image(const float* dyg, const float* wtpack, const ConvShape& s, const Lowering& l, float* dyt,
                      float* col, float* dplanes) {
  const int64_t P = s.P(), Mg = s.Mg(), Kg = s.Kg();
  for (int64_t t = 0; t < l.T; ++t) {
    const int64_t cols = std::min<int64_t>(kNR, P - t * kNR);
    for (int64_t m = 0; m < Mg; ++m) {
      std::memcpy(dyt + m * kNR, dyg + m * P + t * kNR, cols * sizeof(float));
      std::fill(dyt + m * kNR + cols, dyt + (m + 1) * kNR, 0.0f);
    }
    for (int64_t k0 = 0; k0 < Kg; k0 += l.kc) {  // kc is a multiple of kMR: blocks start on a panel
      const int64_t k1 = std::min(Kg, k0 + l.kc);
      conv::rows_product<2, Layout::kPacked, Layout::kStrided>(k1 - k0, Mg, {wtpack + k0 * Mg, Mg * kMR}, {dyt, kNR},
                                                               col, kNR, Init::kZero, nullptr);
      col2im_tile(col, l, t, k0, k1, s.SW, dplanes);
    }
  }
}

}  // namespace

void conv2d_forward(const float* x, const float* w, const float* bias, const ConvShape& s, float* y) {
  const int64_t G = s.groups, Cg = s.Cg(), Mg = s.Mg(), Kg = s.Kg(), P = s.P();
  if (s.N == 0 || s.M == 0 || P == 0)
    return;
  if (Kg == 0) {  // no input channels: the bias alone
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t m = 0; m < s.M; ++m)
        std::fill(y + (n * s.M + m) * P, y + (n * s.M + m + 1) * P, bias ? bias[m] : 0.0f);
    return;
  }
  const Lowering l = plan_lowering(s);
  const bool padded = s.PH > 0 || s.PW > 0;
  const int64_t plane_floats = Cg * l.Hp * l.Wp, panel_rows = round_up(Mg, kMR);
  Scratch apack(G * panel_rows * Kg);  // the weight in panels of kMR output channels
  for (int64_t g = 0; g < G; ++g)
    conv::pack_panels(w + g * Mg * Kg, Mg, Kg, Kg, 1, apack.data() + g * panel_rows * Kg);

  const int nthreads = threads_for(2.0 * s.N * s.M * P * Kg);
  const int64_t col_floats = slice(l.kc * kNR), out_floats = slice(panel_rows * kNR);
  const int64_t per_thread = col_floats + out_floats + (padded ? slice(plane_floats) : 0);
  Scratch scratch(nthreads * per_thread);
#pragma omp parallel num_threads(nthreads)
  {
    float* col = scratch.data() + omp_get_thread_num() * per_thread;
    float* tile_out = col + col_floats;  // the last, partial tile of an image, before it is cut
    float* planes = tile_out + out_floats;
    if (padded)
      std::fill(planes, planes + plane_floats, 0.0f);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t g = 0; g < G; ++g) {
        const float* src = source_planes(x + (n * s.C + g * Cg) * s.H * s.W, s, l, planes);
        const float* ap = apack.data() + g * panel_rows * Kg;
        const float* bg = bias ? bias + g * Mg : nullptr;
        float* yg = y + (n * s.M + g * Mg) * P;
        const bool next = g + 1 < G || n + 1 < s.N;  // the input planes read after these
        for (int64_t t = 0; t < l.T; ++t) {
          if (next)
            prefetch_part(x + (n * s.C + (g + 1) * Cg) * s.H * s.W, Cg * s.H * s.W, t, l.T);
          const int64_t cols = std::min<int64_t>(kNR, P - t * kNR);
          float* c = cols == kNR ? yg + t * kNR : tile_out;
          const int64_t ldc = cols == kNR ? P : kNR;
          const Runs& r = l.runs[t];
          if (r.len == 32 || r.len == 16) {                         // the column rows read in place, no im2col copy
            const int64_t second = r.len == 32 ? kLanes : r.pitch;  // where a row's second vector starts
            conv::rows_product<2, Layout::kPacked, Layout::kOffsets>(Mg, Kg, {ap, Kg * kMR},
                                                                     {src + r.src, second, l.koff.data()}, c, ldc,
                                                                     bg ? Init::kBias : Init::kZero, bg);
          } else {
            for (int64_t k0 = 0; k0 < Kg; k0 += l.kc) {
              const int64_t k1 = std::min(Kg, k0 + l.kc);
              im2col_tile(src, l, t, cols, k0, k1, s.SW, col);
              const Init init = k0 > 0 ? Init::kLoad : bg ? Init::kBias : Init::kZero;
              conv::rows_product<2, Layout::kPacked, Layout::kStrided>(Mg, k1 - k0, {ap + k0 * kMR, Kg * kMR},
                                                                       {col, kNR}, c, ldc, init, bg);
            }
          }
          if (cols < kNR)
            for (int64_t m = 0; m < Mg; ++m)
              std::memcpy(yg + m * P + t * kNR, tile_out + m * kNR, cols * sizeof(float));
        }
      }
  }
}

void conv2d_backward(const float* x, const float* w, const float* dy, const ConvShape& s, float* dx, float* dw,
                     float* db) {
  const int64_t G = s.groups, Cg = s.Cg(), Mg = s.Mg(), Kg = s.Kg(), P = s.P();
  if (dw)
    std::fill(dw, dw + s.M * Kg, 0.0f);
  if (db)
    std::fill(db, db + s.M, 0.0f);
  if (s.N == 0 || s.M == 0 || P == 0) {  // no output: no gradient reaches x (otherwise dx is written below)
    if (dx)
      std::fill(dx, dx + s.N * s.C * s.H * s.W, 0.0f);
    return;
  }
  const Lowering l = plan_lowering(s);
  const int nthreads = threads_for(2.0 * s.N * s.M * P * Kg);

  // dx. With stride 1 it is itself a convolution, of dy with the flipped, transposed weight and
  // the complementary padding D * (K - 1) - P (when that is not negative): the forward kernels
  // then run it, with no scatter. Otherwise col2im, one column tile at a time.
  const int64_t PH2 = s.DH * (s.KH - 1) - s.PH, PW2 = s.DW * (s.KW - 1) - s.PW;
  if (dx && Kg > 0 && s.SH == 1 && s.SW == 1 && PH2 >= 0 && PW2 >= 0) {
    Scratch flipped(s.C * Mg * s.KH * s.KW);  // [C, Mg, KH, KW]: w[g * Mg + m][c][KH-1-kh][KW-1-kw]
    float* f = flipped.data();
    for (int64_t g = 0; g < G; ++g)
      for (int64_t c = 0; c < Cg; ++c)
        for (int64_t m = 0; m < Mg; ++m)
          for (int64_t kh = 0; kh < s.KH; ++kh)
            for (int64_t kw = 0; kw < s.KW; ++kw)
              f[(((g * Cg + c) * Mg + m) * s.KH + kh) * s.KW + kw] =
                  w[(((g * Mg + m) * Cg + c) * s.KH + s.KH - 1 - kh) * s.KW + s.KW - 1 - kw];
    ConvShape t = s;
    t.C = s.M;
    t.H = s.OH;
    t.W = s.OW;
    t.M = s.C;
    t.PH = PH2;
    t.PW = PW2;
    t.OH = s.H;
    t.OW = s.W;
    conv2d_forward(dy, f, nullptr, t, dx);
  } else if (dx && Kg > 0) {
    const int64_t plane_floats = Cg * l.Hp * l.Wp, panel_rows = round_up(Kg, kMR);
    const bool padded = s.PH > 0 || s.PW > 0;
    Scratch wtpack(G * panel_rows * Mg);  // W^T in panels of kMR rows (c, kh, kw)
    for (int64_t g = 0; g < G; ++g)
      conv::pack_panels(w + g * Mg * Kg, Kg, Mg, 1, Kg, wtpack.data() + g * panel_rows * Mg);
    const int64_t col_floats = slice(l.kc * kNR), dyt_floats = slice(Mg * kNR);
    const int64_t per_thread = col_floats + dyt_floats + (padded ? slice(plane_floats) : 0);
    Scratch scratch(nthreads * per_thread);
#pragma omp parallel num_threads(nthreads)
    {
      float* col = scratch.data() + omp_get_thread_num() * per_thread;
      float* dyt = col + col_floats;
      float* dplanes = dyt + dyt_floats;
#pragma omp for schedule(static)
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t g = 0; g < G; ++g) {
          float* dxg = dx + (n * s.C + g * Cg) * s.H * s.W;
          float* target = padded ? dplanes : dxg;  // accumulated from zero, then cut out of dplanes
          std::fill(target, target + (padded ? plane_floats : Cg * s.H * s.W), 0.0f);
          input_grad_image(dy + (n * s.M + g * Mg) * P, wtpack.data() + g * panel_rows * Mg, s, l, dyt, col, target);
          if (padded)
            for (int64_t c = 0; c < Cg; ++c)
              for (int64_t h = 0; h < s.H; ++h)
                std::memcpy(dxg + (c * s.H + h) * s.W, dplanes + (c * l.Hp + h + s.PH) * l.Wp + s.PW,
                            s.W * sizeof(float));
        }
    }
  }
  if (!dw && !db)
    return;

  // dw and db: per-thread partial sums over the images, added in thread order at the end.
  const bool padded = s.PH > 0 || s.PW > 0;
  const int64_t mw = round_up(std::max<int64_t>(Mg, 1), kLanes), plane_floats = Cg * l.Hp * l.Wp;
  const int64_t part_floats = slice(G * Kg * mw + s.M), col_floats = slice(l.kc * kNR), dyt_floats = slice(kNR * mw);
  const int64_t per_thread = part_floats + col_floats + dyt_floats + (padded ? slice(plane_floats) : 0);
  Scratch scratch(nthreads * per_thread);
  int team = 1;  // the threads that actually ran (and zeroed their partial sums)
#pragma omp parallel num_threads(nthreads)
  {
#pragma omp single
    team = omp_get_num_threads();
    float* dwt = scratch.data() + omp_get_thread_num() * per_thread;  // [G][Kg][mw]
    float* dbp = dwt + G * Kg * mw;
    float* col = dwt + part_floats;
    float* dyt = col + col_floats;
    float* planes = dyt + dyt_floats;
    std::fill(dwt, dwt + G * Kg * mw + s.M, 0.0f);
    std::fill(dyt, dyt + kNR * mw, 0.0f);  // its columns past Mg stay zero
    if (padded)
      std::fill(planes, planes + plane_floats, 0.0f);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < s.N; ++n)
      for (int64_t g = 0; g < G; ++g) {
        const float* dyg = dy + (n * s.M + g * Mg) * P;
        if (db)
          for (int64_t m = 0; m < Mg; ++m) {
            float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
            for (int64_t p = 0; p < P; ++p)
              acc += dyg[m * P + p];
            dbp[g * Mg + m] += acc;
          }
        if (dw && Kg > 0) {
          const bool next = g + 1 < G || n + 1 < s.N;
          weight_grad_image(source_planes(x + (n * s.C + g * Cg) * s.H * s.W, s, l, planes), dyg, s, l, mw, dyt, col,
                            dwt + g * Kg * mw, next ? x + (n * s.C + (g + 1) * Cg) * s.H * s.W : nullptr,
                            next ? dyg + Mg * P : nullptr);
        }
      }
  }
  for (int t = 0; t < team; ++t) {
    const float* dwt = scratch.data() + t * per_thread;
    if (dw)
      for (int64_t g = 0; g < G; ++g)
        for (int64_t m = 0; m < Mg; ++m)
          for (int64_t k = 0; k < Kg; ++k)
            dw[(g * Mg + m) * Kg + k] += dwt[(g * Kg + k) * mw + m];
    if (db)
      for (int64_t m = 0; m < s.M; ++m)
        db[m] += dwt[G * Kg * mw + m];
  }
}

}  // namespace qnn::cpu
