#pragma once
// The register-blocked matrix-product kernel inside conv2d. OpenBLAS is not used there: for these
// shapes (one image at a time, 16..64 rows, inner sizes of 16..600) its kernels reach 30-60
// GFLOP/s on this machine, and its core detection can fall back to SSE3 kernels. This kernel is
// written with GCC vector types, so the compiler emits AVX-512 (or AVX2) code for the machine
// that builds it (-march=native), and the caller keeps both operands in L1 (conv_kernels.cpp).
#include <cstdint>
#include <cstring>

namespace qnn::cpu::conv {

#if defined(__AVX512F__)
constexpr int kLanes = 16;
constexpr int kMR = 8;  // rows of a product tile: 8 x 2 vector accumulators of 32 registers
#elif defined(__AVX__)
constexpr int kLanes = 8;
constexpr int kMR = 6;  // 16 registers: 6 x 2 accumulators
#else
constexpr int kLanes = 4;  // SSE (vectors wider than the ISA would change the ABI of load/store)
constexpr int kMR = 6;
#endif
constexpr int kNR = 2 * kLanes;  // columns of a product tile, and of an im2col tile

using Vec = float __attribute__((vector_size(kLanes * sizeof(float))));

inline Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// How the kernel starts its accumulators.
enum class Init { kZero, kBias, kLoad };

// Where the operands' elements are. A is R rows by `inner`, B is `inner` rows of NV vectors.
enum class Layout {
  kPacked,   // A only: a panel of kMR rows interleaved along i, A(r, i) = p[i * kMR + r], so the R
             // broadcasts of one step are adjacent
  kStrided,  // A(r, i) = p[r * ld + i]; B row i = p + i * ld
  kOffsets,  // rows anywhere: A(r, i) = p[off[r] + i]; B row i = p + off[i], its vectors ld apart.
             // This reads im2col columns straight from the input planes (no copy).
};
struct Operand {
  const float* p;
  int64_t ld = 0;
  const int64_t* off = nullptr;
};

// C[r][0..NV * kLanes) = init + sum_i A(r, i) * B[i][..] for r < R. R and NV are template
// parameters so the R x NV accumulators live in registers.
template <int R, int NV, Layout LA, Layout LB>
void kernel(int64_t inner, Operand a, Operand b, float* c, int64_t ldc, Init init, const float* bias) {
  Vec acc[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[r][v] = init == Init::kLoad ? load(c + r * ldc + v * kLanes) : Vec{} + (init == Init::kBias ? bias[r] : 0.0f);
  const float* arow[R];  // the rows of a non-packed A
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
    arow[r] = LA == Layout::kOffsets ? a.p + a.off[r] : a.p + r * a.ld;
  for (int64_t i = 0; i < inner; ++i) {
    Vec bv[NV];
    const float* brow = LB == Layout::kOffsets ? b.p + b.off[i] : b.p + i * b.ld;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      bv[v] = load(brow + (LB == Layout::kOffsets ? v * b.ld : v * kLanes));
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const float ar = LA == Layout::kPacked ? a.p[i * kMR + r] : arow[r][i];
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v)
        acc[r][v] += ar * bv[v];
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      store(c + r * ldc + v * kLanes, acc[r][v]);
}

// C[rows x NV * kLanes] (init)+= A B for any row count: full kMR-row kernels, then one for the rest.
// A moves on by kMR rows per kernel: a panel (packed: a.ld is the panel stride, since a block of
// the inner dimension may start inside the panels), kMR * a.ld floats, or kMR offsets.
template <int NV, Layout LA, Layout LB>
void rows_product(int64_t rows, int64_t inner, Operand a, Operand b, float* c, int64_t ldc, Init init,
                  const float* bias) {
  int64_t r0 = 0;
#if defined(__AVX512F__)
  // One vector per row leaves registers for 16 rows: twice the work per load of B.
  if constexpr (NV == 1 && LA != Layout::kPacked)
    for (; rows - r0 >= 16; r0 += 16) {
      Operand ar = a;
      if (LA == Layout::kStrided)
        ar.p += r0 * a.ld;
      else
        ar.off += r0;
      kernel<16, 1, LA, LB>(inner, ar, b, c + r0 * ldc, ldc, init, bias ? bias + r0 : nullptr);
    }
#endif
  for (; r0 < rows; r0 += kMR) {
    Operand ar = a;
    if (LA == Layout::kPacked)
      ar.p += r0 / kMR * a.ld;
    else if (LA == Layout::kStrided)
      ar.p += r0 * a.ld;
    else
      ar.off += r0;
    const float* br = bias ? bias + r0 : nullptr;
    float* cr = c + r0 * ldc;
    switch (rows - r0 < kMR ? rows - r0 : kMR) {
#define QNN_CONV_KERNEL_CASE(R)                             \
  case R:                                                   \
    kernel<R, NV, LA, LB>(inner, ar, b, cr, ldc, init, br); \
    break;
      QNN_CONV_KERNEL_CASE(1)
      QNN_CONV_KERNEL_CASE(2)
      QNN_CONV_KERNEL_CASE(3)
      QNN_CONV_KERNEL_CASE(4)
      QNN_CONV_KERNEL_CASE(5)
      QNN_CONV_KERNEL_CASE(6)
#if defined(__AVX512F__)
      QNN_CONV_KERNEL_CASE(7)
      QNN_CONV_KERNEL_CASE(8)
#endif
#undef QNN_CONV_KERNEL_CASE
      default:
        break;
    }
  }
}

// The weight-gradient update with Col's rows read in place from the source planes: for the rows
// r < R of the column matrix (taps at p + off[r]) and `runs` runs of `len` pixels, run j starting
// `pitch` floats after run j - 1 (output rows, stride 1), C[r][0..NV * kLanes) += sum over the
// run pixels i of Col(r, i) * B[i][..] (B row i at b + i * ldb). The accumulators stay in
// registers over all the runs, so C is loaded and stored once per call, not once per run.
template <int R, int NV>
void kernel_runs(int64_t runs, int64_t len, int64_t pitch, const float* p, const int64_t* off, const float* b,
                 int64_t ldb, float* c, int64_t ldc) {
  Vec acc[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[r][v] = load(c + r * ldc + v * kLanes);
  // Two vectors per row: one moving pointer q and the rows' offsets in registers, each tap q[o[r]]
  // (a broadcast with base + index addressing), so a step costs one pointer increment, not one
  // per row. One vector per row: the broadcasts fold into the FMAs, where an indexed address
  // would split each into two uops, so the rows keep their own pointers.
  int64_t o[R];
  const float* arow[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    o[r] = off[r];
    arow[r] = p + off[r];
  }
  for (int64_t j = 0; j < runs; ++j) {
    const float* q = p + j * pitch;
    for (int64_t i = 0; i < len; ++i, b += ldb) {
      Vec bv[NV];
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v)
        bv[v] = load(b + v * kLanes);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const float ar = NV == 1 ? arow[r][i] : q[i + o[r]];
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v)
          acc[r][v] += ar * bv[v];
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
      arow[r] += pitch;
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      store(c + r * ldc + v * kLanes, acc[r][v]);
}

// kernel_runs for any number of rows: full kMR-row kernels, then one for the rest. (No 16-row
// kernel for one vector per row: its 16 row pointers spill to vector registers, and moving them
// back takes the FMA ports.)
template <int NV>
void runs_product(int64_t rows, int64_t runs, int64_t len, int64_t pitch, const float* p, const int64_t* off,
                  const float* b, int64_t ldb, float* c, int64_t ldc) {
  int64_t r0 = 0;
  for (; r0 < rows; r0 += kMR) {
    const int64_t* o = off + r0;
    float* cr = c + r0 * ldc;
    switch (rows - r0 < kMR ? rows - r0 : kMR) {
#define QNN_CONV_RUNS_CASE(R)                                    \
  case R:                                                        \
    kernel_runs<R, NV>(runs, len, pitch, p, o, b, ldb, cr, ldc); \
    break;
      QNN_CONV_RUNS_CASE(1)
      QNN_CONV_RUNS_CASE(2)
      QNN_CONV_RUNS_CASE(3)
      QNN_CONV_RUNS_CASE(4)
      QNN_CONV_RUNS_CASE(5)
      QNN_CONV_RUNS_CASE(6)
#if defined(__AVX512F__)
      QNN_CONV_RUNS_CASE(7)
      QNN_CONV_RUNS_CASE(8)
#endif
#undef QNN_CONV_RUNS_CASE
      default:
        break;
    }
  }
}

// Packs `rows` x `inner` of a strided matrix (element (r, i) at m[r * row_stride + i * col_stride])
// into panels of kMR rows, out[(r0 + 0..kMR) panel][i][r], zero-filling the last panel.
inline void pack_panels(const float* m, int64_t rows, int64_t inner, int64_t row_stride, int64_t col_stride,
                        float* out) {
  for (int64_t r0 = 0; r0 < rows; r0 += kMR)
    for (int64_t i = 0; i < inner; ++i)
      for (int64_t r = 0; r < kMR; ++r)
        out[r0 * inner + i * kMR + r] = r0 + r < rows ? m[(r0 + r) * row_stride + i * col_stride] : 0.0f;
}

}  // namespace qnn::cpu::conv
