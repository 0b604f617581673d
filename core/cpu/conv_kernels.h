#pragma once
// Raw-pointer kernels behind conv2d (NCHW, float32, contiguous). Each image is lowered to a
// matrix product: its im2col columns (one row per (input channel, kh, kw), one column per output
// pixel) are written straight into packed column tiles (conv_gemm.h) and multiplied by the
// weight. Threads split the batch; each owns its column buffers, taken from the caching allocator
// for the call, so no page is faulted in the hot loop.
#include <cstdint>

namespace qnn::cpu {

// Geometry of one conv2d call; OH and OW are derived by the caller.
struct ConvShape {
  int64_t N, C, H, W;  // input
  int64_t M;           // output channels
  int64_t KH, KW, SH, SW, PH, PW, DH, DW, groups;
  int64_t OH, OW;
  int64_t Cg() const { return C / groups; }      // input channels per group
  int64_t Mg() const { return M / groups; }      // output channels per group
  int64_t Kg() const { return Cg() * KH * KW; }  // inner size of the product: one weight row
  int64_t P() const { return OH * OW; }          // output pixels per image
};

// y [N, M, OH, OW] = conv(x [N, C, H, W], w [M, C / groups, KH, KW]) + bias [M]; bias may be null.
void conv2d_forward(const float* x, const float* w, const float* bias, const ConvShape& s, float* y);

// Gradients from dy [N, M, OH, OW]: dx (needs w), dw (needs x), db. Each output may be null (not
// wanted); the others' inputs may then be null too. Every output is overwritten. dw and db add up
// per-thread partial sums, so their last bits depend on the thread count (y and dx do not).
void conv2d_backward(const float* x, const float* w, const float* dy, const ConvShape& s, float* dx, float* dw,
                     float* db);

}  // namespace qnn::cpu
