#include "core/cpu/conv_lowering.h"

#include <cstring>

namespace qnn::cpu::conv {
namespace {

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

}  // namespace

Lowering plan_lowering(const ConvShape& s, int64_t images, int64_t image_stride) {
  Lowering l;
  l.Hp = s.H + 2 * s.PH;
  l.Wp = s.W + 2 * s.PW;
  const int64_t P = s.P(), Kg = s.Kg();
  l.cols = images * P;
  l.T = (l.cols + kNR - 1) / kNR;
  const int64_t blocks = std::max<int64_t>(1, (Kg + kMaxBlockRows - 1) / kMaxBlockRows);
  l.kc = std::max<int64_t>(kMR, round_up((Kg + blocks - 1) / blocks, kMR));
  for (int64_t c = 0; c < s.Cg(); ++c)
    for (int64_t kh = 0; kh < s.KH; ++kh)
      for (int64_t kw = 0; kw < s.KW; ++kw)
        l.koff.push_back(c * l.Hp * l.Wp + kh * s.DH * l.Wp + kw * s.DW);
  l.first.push_back(0);
  int64_t p = 0;
  for (int64_t j = 0; j < images; ++j)
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW;) {
        const int64_t q = p % kNR, n = std::min<int64_t>(s.OW - ow, kNR - q);
        const int64_t src = j * image_stride + oh * s.SH * l.Wp + ow * s.SW;
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
  if (p % kNR)
    l.first.push_back(static_cast<int64_t>(l.segs.size()));
  for (int64_t t = 0; t < l.T; ++t)
    l.runs.push_back(regular_runs(l, t, s.SW));
  return l;
}

namespace {

using V16 = float __attribute__((vector_size(16 * sizeof(float))));
using V8 = float __attribute__((vector_size(8 * sizeof(float))));

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
  if (i + 8 <= n) {  // 8 more from s[0..14], as s[0..7] and s[7..14]
    V8 lo, hi;
    std::memcpy(&lo, s + 2 * i, sizeof lo);
    std::memcpy(&hi, s + 2 * i + 7, sizeof hi);
    const V8 even = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 9, 11, 13, 15);
    std::memcpy(d + i, &even, sizeof even);
    i += 8;
  }
  for (; i < n; ++i)
    d[i] = s[2 * i];
}

// d[i] = s[i * stride] for i < n; the common contiguous widths get fixed-size copies the compiler
// turns into straight vector moves.
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
  if (i + 8 <= n) {  // 8 more onto d[0..14], as d[0..7] and d[7..14]
    V8 lo, hi, v;
    std::memcpy(&lo, d + 2 * i, sizeof lo);
    std::memcpy(&hi, d + 2 * i + 7, sizeof hi);
    std::memcpy(&v, s + i, sizeof v);
    const V8 zero{};
    lo += __builtin_shufflevector(v, zero, 0, 8, 1, 8, 2, 8, 3, 8);  // d[0], d[2], d[4], d[6]
    hi += __builtin_shufflevector(v, zero, 8, 4, 8, 5, 8, 6, 8, 7);  // d[8], d[10], d[12], d[14]
    std::memcpy(d + 2 * i, &lo, sizeof lo);                          // d[7] is in both, unchanged by either
    std::memcpy(d + 2 * i + 7, &hi, sizeof hi);
    i += 8;
  }
  for (; i < n; ++i)
    d[2 * i] += s[i];
}

// The adjoint of gather: d[i * stride] += s[i].
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

// Regular tiles: kNR / L runs of L floats, `pitch` apart in the source.
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

}  // namespace

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

namespace {

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

}  // namespace

void transpose_block(const float* src, int64_t ld, int64_t rows, int64_t cols, int64_t mw, float* dst) {
  int64_t m0 = 0;
  for (; m0 + 8 <= rows; m0 += 8) {
    int64_t q0 = 0;
    for (; q0 + 8 <= cols; q0 += 8) {
      V8 r[8];
      for (int i = 0; i < 8; ++i)
        std::memcpy(&r[i], src + (m0 + i) * ld + q0, sizeof(V8));
      transpose8(r);
      for (int i = 0; i < 8; ++i)
        std::memcpy(dst + (q0 + i) * mw + m0, &r[i], sizeof(V8));
    }
    for (; q0 < cols; ++q0)
      for (int64_t m = m0; m < m0 + 8; ++m)
        dst[q0 * mw + m] = src[m * ld + q0];
  }
  for (; m0 < rows; ++m0)  // the last rows one by one
    for (int64_t q = 0; q < cols; ++q)
      dst[q * mw + m0] = src[m0 * ld + q];
}

void transpose_tile(const float* dyg, int64_t P, int64_t Mg, int64_t t, int64_t cols, int64_t mw, float* dyt) {
  transpose_block(dyg + t * kNR, P, Mg, cols, mw, dyt);
  for (int64_t q = cols; q < kNR; ++q)
    std::fill(dyt + q * mw, dyt + q * mw + Mg, 0.0f);
}

}  // namespace qnn::cpu::conv
