#pragma once
// Raw-pointer kernels behind softmax, log_softmax and cross_entropy. Every array is contiguous
// float32. The maximum of each row is subtracted before exponentiating, so no exp overflows; exp
// is our own vectorizable one (below), so results do not depend on the libm.
#include <bit>
#include <cstdint>
#include <limits>

namespace qnn::cpu {

// exp(x) to ~1 ulp, branch-free so loops over it vectorize (libm's expf is a call per element).
// exp(x) = 2^n exp(r) with n = round(x / ln 2) and r = x - n ln 2 in [-ln2/2, ln2/2]; ln 2 is split
// in a head with 9 significant bits (n * head is exact) and a tail (Cody and Waite), and exp(r) is
// its Taylor polynomial of degree 7 (truncation error < 6e-9 on that interval). 2^n is added to
// the exponent field. Returns 0 below -86.99 (results under 2.5e-38, where n would leave the normal
// range), inf above ln(FLT_MAX), NaN for NaN.
inline float fast_exp(float x) {
  constexpr float kLo = -86.99f, kHi = 88.72283f;
  constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  float xc = x > kLo ? x : kLo;          // NaN -> kLo: keeps the integer conversion defined
  xc = xc < kHi ? xc : kHi;
  const float n = (xc * kLog2e + kRound) - kRound;
  const float r = (xc - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const float e = std::bit_cast<float>(std::bit_cast<int32_t>(p) + (static_cast<int32_t>(n) << 23));
  const float out = x < kLo ? 0.0f : (x > kHi ? std::numeric_limits<float>::infinity() : e);
  return x != x ? x : out;
}

// x seen as [outer, K, inner]: softmax runs over K for each of the outer * inner columns.
struct SoftmaxShape {
  int64_t outer, K, inner;
  int64_t numel() const { return outer * K * inner; }
};

// y = softmax(x) (log = false) or log_softmax(x) (log = true) over K.
void softmax_forward(const float* x, SoftmaxShape s, bool log, float* y);

// Given the forward output y and dy:
//   softmax:     dx = y * (dy - sum_k dy * y)
//   log_softmax: dx = dy - exp(y) * sum_k dy
void softmax_backward(const float* y, const float* dy, SoftmaxShape s, bool log, float* dx);

// Cross-entropy rows of logits z [N, C] against class indices `target` [N] (valid; `soft` null)
// or class probabilities `soft` [N, C] (`target` null), with label smoothing eps: the target
// distribution is q' = (1 - eps) q + eps / C. Writes loss[n] = -sum_c q'_c log_softmax(z)_c,
// and per row the max m[n] and log-sum-exp offset ls[n] (log softmax = z - m - ls) for the backward.
void cross_entropy_forward(const float* z, int64_t N, int64_t C, const int64_t* target, const float* soft, float eps,
                           float* loss, float* m, float* ls);

// Gradients of loss[n] weighted by g[n * g_stride] (g_stride 0: one weight for every row):
//   dz[n, c] = g_n (softmax(z)_c * sum_c q'_c - q'_c)     (the sum is 1 for class targets)
//   dsoft[n, c] = -g_n (1 - eps) log_softmax(z)_c        (soft targets only; dz or dsoft may be null)
void cross_entropy_backward(const float* z, int64_t N, int64_t C, const int64_t* target, const float* soft, float eps,
                            const float* m, const float* ls, const float* g, int64_t g_stride, float* dz, float* dsoft);

}  // namespace qnn::cpu
