#include "core/cpu/conv_kernels.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/cpu/conv_gemm.h"
#include "core/cpu/conv_lowering.h"

namespace qnn::cpu {
namespace {

using conv::col2im_tile;
using conv::im2col_tile;
using conv::Init;
using conv::kLanes;
using conv::kMR;
using conv::kNR;
using conv::Layout;
using conv::Lowering;
using conv::Operand;
using conv::plan_lowering;
using conv::prefetch_part;
using conv::round_up;
using conv::Runs;
using conv::Scratch;
using conv::slice;
using conv::source_planes;
using conv::threads_for;
using conv::transpose_tile;

// C[rows][0 .. 16 or 32) += A B, the weight-gradient update (dwt rows are 16 or 32 floats wide
// from column m0 on: two vectors per row while they last, then one).
template <Layout LA>
void add_product(int64_t rows, int64_t inner, Operand a, Operand b, float* c, int64_t ldc, bool two) {
  if (two)
    conv::rows_product<2, LA, Layout::kStrided>(rows, inner, a, b, c, ldc, Init::kLoad, nullptr);
  else
    conv::rows_product<1, LA, Layout::kStrided>(rows, inner, a, b, c, ldc, Init::kLoad, nullptr);
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
    if (r.len >= 16) {  // Col's rows read in place (8-wide runs cost more in accumulator traffic than a copy)
      for (int64_t m0 = 0; m0 < mw; m0 += 2 * kLanes)
        for (int64_t j = 0; j < kNR / r.len; ++j)
          add_product<Layout::kOffsets>(Kg, r.len, {src + r.src + j * r.pitch, 0, l.koff.data()},
                                        {dyt + j * r.len * mw + m0, mw}, dwt + m0, mw, mw - m0 >= 2 * kLanes);
      continue;
    }
    for (int64_t k0 = 0; k0 < Kg; k0 += l.kc) {  // each block of Col built once, for all output channels
      const int64_t k1 = std::min(Kg, k0 + l.kc);
      im2col_tile(src, l, t, cols, k0, k1, s.SW, col);
      for (int64_t m0 = 0; m0 < mw; m0 += 2 * kLanes)
        add_product<Layout::kStrided>(k1 - k0, kNR, {col, kNR}, {dyt + m0, mw}, dwt + k0 * mw + m0, mw,
                                      mw - m0 >= 2 * kLanes);
    }
  }
}

// Output pixels per chunk of the stride-1 weight gradient: a chunk of dY^T (32 channels, 16 KiB)
// stays in L1 while every row panel of Col passes over it.
constexpr int64_t kGradCols = 128;
int64_t grad_rows(const ConvShape& s) { return std::clamp<int64_t>(kGradCols / s.OW, 1, s.OH); }

// The weight gradient of one image and group for stride 1 along W (output rows are contiguous
// runs in the source planes), as weight_grad_image but with no im2col: Col's rows are read in
// place, and the accumulators of dwt stay in registers over a chunk of whole output rows.
void weight_grad_runs(const float* src, const float* dyg, const ConvShape& s, const Lowering& l, int64_t mw, float* dyt,
                      float* dwt) {
  const int64_t P = s.P(), Mg = s.Mg(), Kg = s.Kg(), pitch = s.SH * l.Wp, rows = grad_rows(s);
  for (int64_t r0 = 0; r0 < s.OH; r0 += rows) {
    const int64_t nr = std::min(rows, s.OH - r0);
    conv::transpose_block(dyg + r0 * s.OW, P, Mg, nr * s.OW, mw, dyt);
    for (int64_t m0 = 0; m0 < mw; m0 += 2 * kLanes) {
      if (mw - m0 >= 2 * kLanes)
        conv::runs_product<2>(Kg, nr, s.OW, pitch, src + r0 * pitch, l.koff.data(), dyt + m0, mw, dwt + m0, mw);
      else
        conv::runs_product<1>(Kg, nr, s.OW, pitch, src + r0 * pitch, l.koff.data(), dyt + m0, mw, dwt + m0, mw);
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

// Layers whose weight outgrows the caches (ResNet-18's later stages: up to 512 x 4608 floats per
// group) would stream all of it once per column tile, and their images have few tiles. They
// multiply a chunk of images at once, blocked as a GEMM library blocks: for each block of kc rows
// of the inner dimension the column tiles of the whole chunk are built once, then each block of
// kBlockM output channels passes over all of them, so a weight block is read once per chunk.
constexpr int64_t kBlockedWeight = int64_t{1} << 17;  // floats per group from which weights are blocked
constexpr int64_t kChunkTiles = 16;                   // column tiles per chunk (at least)
constexpr int64_t kBlockM = 8 * kMR;                  // output channels per weight block
constexpr int64_t kBlockK = 64;                       // weight-gradient rows per block (8 KiB of them)

bool use_blocked(const ConvShape& s) { return s.Mg() * s.Kg() >= kBlockedWeight; }
int64_t chunk_images(const ConvShape& s, int64_t T) {
  return std::clamp<int64_t>((kChunkTiles + T - 1) / T, 1, std::max<int64_t>(s.N, 1));
}

// The lowering of a chunk: its images' columns one after another, so tiles run on across images
// (a 7 x 7 image alone would fill 2 tiles of 32 with 49 columns). The source planes of image j
// are at image_stride() floats after image 0's: the padded copies, or x itself.
struct ChunkPlan {
  int64_t per, chunks;  // images per chunk, chunks
  Lowering full, tail;  // the lowering of a whole chunk, and of the last (maybe smaller) one
  const Lowering& of(int64_t nb) const { return nb == per ? full : tail; }
};
int64_t image_stride(const ConvShape& s, const Lowering& l) {
  return s.PH > 0 || s.PW > 0 ? s.Cg() * l.Hp * l.Wp : s.C * s.H * s.W;
}
ChunkPlan plan_chunks(const ConvShape& s, const Lowering& l) {
  const int64_t per = chunk_images(s, l.T), chunks = (s.N + per - 1) / per;
  return {per, chunks, plan_lowering(s, per, image_stride(s, l)),
          plan_lowering(s, s.N - (chunks - 1) * per, image_stride(s, l))};
}

// The source planes of nb images from n0 on, group g: copies into `planes` when padding, else x.
const float* chunk_planes(const float* x, int64_t n0, int64_t nb, int64_t g, const ConvShape& s, const Lowering& l,
                          float* planes) {
  const float* xg = x + (n0 * s.C + g * s.Cg()) * s.H * s.W;
  for (int64_t j = 0; j < nb && (s.PH > 0 || s.PW > 0); ++j)
    source_planes(xg + j * s.C * s.H * s.W, s, l, planes + j * image_stride(s, l));
  return s.PH > 0 || s.PW > 0 ? planes : xg;
}

// Rows [k0, k1) of every column tile of a chunk into col[t][kc][kNR].
void im2col_chunk(const float* src, const Lowering& lc, int64_t SW, int64_t k0, int64_t k1, float* col) {
  for (int64_t t = 0; t < lc.T; ++t)
    im2col_tile(src, lc, t, std::min<int64_t>(kNR, lc.cols - t * kNR), k0, k1, SW, col + t * lc.kc * kNR);
}

// Calls f(j, p, q, n) for each piece of column tile t that lies in one image: n columns from the
// tile's column q, which are pixels p.. of image j.
template <class F>
void for_each_piece(const Lowering& lc, int64_t P, int64_t t, F f) {
  const int64_t cols = std::min<int64_t>(kNR, lc.cols - t * kNR);
  for (int64_t q = 0; q < cols;) {
    const int64_t at = t * kNR + q, j = at / P, p = at % P, n = std::min(cols - q, P - p);
    f(j, p, q, n);
    q += n;
  }
}

// The blocked forward (see kBlockedWeight); apack holds each group's weight in panels.
void forward_blocked(const float* x, const float* apack, const float* bias, const ConvShape& s, const Lowering& l,
                     float* y) {
  const int64_t G = s.groups, Mg = s.Mg(), Kg = s.Kg(), P = s.P(), panel_rows = round_up(Mg, kMR);
  const ChunkPlan cp = plan_chunks(s, l);
  const bool padded = s.PH > 0 || s.PW > 0;
  const int64_t planes_floats = padded ? slice(cp.per * image_stride(s, l)) : 0;
  const int64_t col_floats = slice(cp.full.T * l.kc * kNR), out_floats = slice(cp.full.T * panel_rows * kNR);
  const int nthreads = threads_for(2.0 * s.N * s.M * P * Kg);
  const int64_t per_thread = planes_floats + col_floats + out_floats;
  Scratch scratch(nthreads * per_thread);
#pragma omp parallel num_threads(nthreads)
  {
    float* planes = scratch.data() + omp_get_thread_num() * per_thread;
    float* col = planes + planes_floats;  // [tile][kc][kNR]
    float* out = col + col_floats;        // [tile][panel_rows][kNR]: the chunk's output, cut into y at the end
    std::fill(planes, planes + planes_floats, 0.0f);
#pragma omp for schedule(static) nowait  // the region's end is the barrier
    for (int64_t c = 0; c < cp.chunks; ++c) {
      const int64_t n0 = c * cp.per, nb = std::min(cp.per, s.N - n0);
      const Lowering& lc = cp.of(nb);
      for (int64_t g = 0; g < G; ++g) {
        const float* src = chunk_planes(x, n0, nb, g, s, l, planes);
        const float* ap = apack + g * panel_rows * Kg;
        const float* bg = bias ? bias + g * Mg : nullptr;
        for (int64_t k0 = 0; k0 < Kg; k0 += l.kc) {
          const int64_t k1 = std::min(Kg, k0 + l.kc);
          im2col_chunk(src, lc, s.SW, k0, k1, col);
          const Init init = k0 > 0 ? Init::kLoad : bg ? Init::kBias : Init::kZero;
          for (int64_t m0 = 0; m0 < Mg; m0 += kBlockM)
            for (int64_t t = 0; t < lc.T; ++t)
              conv::rows_product<2, Layout::kPacked, Layout::kStrided>(
                  std::min(kBlockM, Mg - m0), k1 - k0, {ap + m0 * Kg + k0 * kMR, Kg * kMR}, {col + t * l.kc * kNR, kNR},
                  out + (t * panel_rows + m0) * kNR, kNR, init, bg ? bg + m0 : nullptr);
        }
        for (int64_t t = 0; t < lc.T; ++t)
          for_each_piece(lc, P, t, [&](int64_t j, int64_t p, int64_t q, int64_t n) {
            for (int64_t m = 0; m < Mg; ++m)
              std::memcpy(y + ((n0 + j) * s.M + g * Mg + m) * P + p, out + (t * panel_rows + m) * kNR + q,
                          n * sizeof(float));
          });
      }
    }
  }
}

// The blocked weight gradient of one chunk (lowering lc, source planes src, gradients dyg of its
// first image, group g) : dwt[k][m] += sum over the chunk's pixels of Col[k][p] * dY[m][p]. col
// holds the chunk's column tiles of one block of rows, dyt the chunk's dY^T tiles (columns past
// Mg zero).
void weight_grad_blocked(const float* src, const Lowering& lc, const float* dyg, const ConvShape& s, int64_t mw,
                         float* col, float* dyt, float* dwt) {
  const int64_t P = s.P(), Mg = s.Mg(), Kg = s.Kg();
  for (int64_t t = 0; t < lc.T; ++t) {
    float* dt = dyt + t * kNR * mw;
    for (int64_t q = std::min<int64_t>(kNR, lc.cols - t * kNR); q < kNR; ++q)
      std::fill(dt + q * mw, dt + q * mw + Mg, 0.0f);
    for_each_piece(lc, P, t, [&](int64_t j, int64_t p, int64_t q, int64_t n) {
      conv::transpose_block(dyg + j * s.M * P + p, P, Mg, n, mw, dt + q * mw);
    });
  }
  for (int64_t k0 = 0; k0 < Kg; k0 += lc.kc) {
    const int64_t k1 = std::min(Kg, k0 + lc.kc);
    im2col_chunk(src, lc, s.SW, k0, k1, col);
    // A block of kBlockK x 32 accumulators stays in L1 while every tile of the chunk adds to it.
    for (int64_t m0 = 0; m0 < mw; m0 += 2 * kLanes)
      for (int64_t r0 = k0; r0 < k1; r0 += kBlockK)
        for (int64_t t = 0; t < lc.T; ++t)
          add_product<Layout::kStrided>(std::min(kBlockK, k1 - r0), kNR, {col + (t * lc.kc + r0 - k0) * kNR, kNR},
                                        {dyt + t * kNR * mw + m0, mw}, dwt + r0 * mw + m0, mw, mw - m0 >= 2 * kLanes);
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
  const int nthreads = threads_for(2.0 * s.N * s.M * P * Kg);
  Scratch apack(G * panel_rows * Kg);  // the weight in panels of kMR output channels
  // Packed serially: a parallel region of its own costs more than it saves when other processes
  // share the cores (each fork and join can wait for a descheduled thread).
  for (int64_t g = 0; g < G; ++g)
    conv::pack_panels(w + g * Mg * Kg, Mg, Kg, Kg, 1, apack.data() + g * panel_rows * Kg);
  if (use_blocked(s))
    return forward_blocked(x, apack.data(), bias, s, l, y);

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
#pragma omp for schedule(static) nowait  // the region's end is the barrier
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
          if (r.len >= kLanes) {  // each vector of a column row lies in one run: read in place, no im2col copy
            const int64_t second = r.len >= 2 * kLanes ? kLanes : r.pitch;  // where a row's second vector starts
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

namespace {

// dx (overwritten). With stride 1 it is itself a convolution, of dy with the flipped, transposed
// weight and the complementary padding D * (K - 1) - P (when that is not negative): the forward
// kernels then run it, with no scatter. Otherwise col2im, one column tile at a time.
void input_grad(const float* w, const float* dy, const ConvShape& s, const Lowering& l, float* dx) {
  const int64_t G = s.groups, Cg = s.Cg(), Mg = s.Mg(), Kg = s.Kg(), P = s.P();
  const int nthreads = threads_for(2.0 * s.N * s.M * P * Kg);
  const int64_t PH2 = s.DH * (s.KH - 1) - s.PH, PW2 = s.DW * (s.KW - 1) - s.PW;
  if (s.SH == 1 && s.SW == 1 && PH2 >= 0 && PW2 >= 0) {
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
  } else {
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
#pragma omp for schedule(static) nowait  // the region's end is the barrier
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
}

// dw and db (each overwritten, or null): per-thread partial sums over chunks of images (one
// image each unless the weight is blocked), added in thread order at the end.
void weight_bias_grad(const float* x, const float* dy, const ConvShape& s, const Lowering& l, float* dw, float* db) {
  const int64_t G = s.groups, Cg = s.Cg(), Mg = s.Mg(), Kg = s.Kg(), P = s.P();
  const int nthreads = threads_for(2.0 * s.N * s.M * P * Kg);
  const bool padded = s.PH > 0 || s.PW > 0, blocked = dw && Kg > 0 && use_blocked(s);
  const ChunkPlan cp = blocked ? plan_chunks(s, l) : ChunkPlan{1, s.N, {}, {}};
  const int64_t per = cp.per, chunks = cp.chunks, tiles = blocked ? cp.full.T : 1;  // column tiles at once
  const int64_t mw = round_up(std::max<int64_t>(Mg, 1), kLanes);
  const int64_t part_floats = slice(G * Kg * mw + s.M), col_floats = slice(tiles * l.kc * kNR);
  const bool runs = !blocked && s.SW == 1;  // weight_grad_runs
  const int64_t dyt_cols = runs ? std::max<int64_t>(kNR, grad_rows(s) * s.OW) : tiles * kNR;
  const int64_t dyt_floats = slice(dyt_cols * mw), planes_floats = padded ? slice(per * image_stride(s, l)) : 0;
  const int64_t per_thread = part_floats + col_floats + dyt_floats + planes_floats;
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
    std::fill(dyt, dyt + dyt_cols * mw, 0.0f);  // its columns past Mg stay zero
    std::fill(planes, planes + planes_floats, 0.0f);
#pragma omp for schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t n0 = c * per, nb = std::min(per, s.N - n0);
      for (int64_t g = 0; g < G; ++g) {
        const float* dyg = dy + (n0 * s.M + g * Mg) * P;
        if (db)
          for (int64_t j = 0; j < nb; ++j)
            for (int64_t m = 0; m < Mg; ++m) {
              const float* row = dyg + j * s.M * P + m * P;
              float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
              for (int64_t p = 0; p < P; ++p)
                acc += row[p];
              dbp[g * Mg + m] += acc;
            }
        if (!dw || Kg == 0)
          continue;
        const float* xg = x + (n0 * s.C + g * Cg) * s.H * s.W;
        if (blocked) {
          weight_grad_blocked(chunk_planes(x, n0, nb, g, s, l, planes), cp.of(nb), dyg, s, mw, col, dyt,
                              dwt + g * Kg * mw);
        } else {
          const bool next = g + 1 < G || n0 + 1 < s.N;
          if (runs)
            weight_grad_runs(source_planes(xg, s, l, planes), dyg, s, l, mw, dyt, dwt + g * Kg * mw);
          else
            weight_grad_image(source_planes(xg, s, l, planes), dyg, s, l, mw, dyt, col, dwt + g * Kg * mw,
                              next ? xg + Cg * s.H * s.W : nullptr, next ? dyg + Mg * P : nullptr);
        }
      }
    }
    // The partial sums added up in thread order by all the threads (a serial sum of two 64 x 576
    // partials is several % of a call on two cores); after the loop's barrier every part is done,
    // and the region's end is the only other wait (no barrier of its own: nowait).
    if (dw)
#pragma omp for schedule(static) nowait
      for (int64_t gk = 0; gk < G * Kg; ++gk) {
        const int64_t g = gk / Kg, k = gk % Kg;
        for (int t = 0; t < team; ++t) {
          const float* part = scratch.data() + t * per_thread + gk * mw;
          for (int64_t m = 0; m < Mg; ++m)
            dw[(g * Mg + m) * Kg + k] += part[m];
        }
      }
  }
  if (db)
    for (int t = 0; t < team; ++t)
      for (int64_t m = 0; m < s.M; ++m)
        db[m] += scratch.data()[t * per_thread + G * Kg * mw + m];
}

}  // namespace

void conv2d_backward(const float* x, const float* w, const float* dy, const ConvShape& s, float* dx, float* dw,
                     float* db) {
  if (dw)
    std::fill(dw, dw + s.M * s.Kg(), 0.0f);
  if (db)
    std::fill(db, db + s.M, 0.0f);
  if (s.N == 0 || s.M == 0 || s.P() == 0) {  // no output: no gradient reaches x (otherwise dx is written below)
    if (dx)
      std::fill(dx, dx + s.N * s.C * s.H * s.W, 0.0f);
    return;
  }
  const Lowering l = plan_lowering(s);
  if (dx && s.Kg() > 0)
    input_grad(w, dy, s, l, dx);
  if (dw || db)
    weight_bias_grad(x, dy, s, l, dw, db);
}

}  // namespace qnn::cpu
