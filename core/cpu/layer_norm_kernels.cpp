// Layer norm kernels: one fused pass per row (the row stays in L1/L2 between its passes), rows
// split over threads. The weight/bias gradients are column sums over rows; they are accumulated
// per fixed block of rows and the blocks combined in order, so results do not depend on threads.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu/norm_kernels.h"
#include "core/cpu/norm_sum.h"
#include "core/cpu/strided_loop.h"

namespace qnn::cpu {
namespace {

constexpr int64_t kRowBlocks = 32;  // fixed partitioning of rows for the dweight/dbias partial sums

bool go_parallel(int64_t work) { return work >= kParallelGrain && !omp_in_parallel(); }

}  // namespace

void layer_norm_forward(const float* x, int64_t R, int64_t D, const float* weight, const float* bias, float eps,
                        float* y, float* mean, float* rstd) {
#pragma omp parallel for schedule(static) if (go_parallel(R * D))
  for (int64_t r = 0; r < R; ++r) {
    const float* xr = x + r * D;
    float* yr = y + r * D;
    // Corrected two-pass statistics: the second pass re-sums deviations from the rounded first mean.
    const float m0 = static_cast<float>(lane_sum(D, [xr](int64_t i) { return xr[i]; }) / static_cast<double>(D));
    double sd, sq;
    lane_sum2(
        D, [xr, m0](int64_t i) { return xr[i] - m0; },
        [xr, m0](int64_t i) {
          const float d = xr[i] - m0;
          return d * d;
        },
        sd, sq);
    const float mf = static_cast<float>(m0 + sd / static_cast<double>(D));
    const double var = std::max((sq - sd * sd / static_cast<double>(D)) / static_cast<double>(D), 0.0);
    const float rs = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
    mean[r] = mf;
    rstd[r] = rs;
    if (weight && bias) {
#pragma omp simd
      for (int64_t i = 0; i < D; ++i)
        yr[i] = (xr[i] - mf) * rs * weight[i] + bias[i];
    } else if (weight) {
#pragma omp simd
      for (int64_t i = 0; i < D; ++i)
        yr[i] = (xr[i] - mf) * rs * weight[i];
    } else {
      const float b0 = 0.0f;
#pragma omp simd
      for (int64_t i = 0; i < D; ++i)
        yr[i] = (xr[i] - mf) * rs + (bias ? bias[i] : b0);
    }
  }
}

void layer_norm_backward(const float* dy, const float* x, int64_t R, int64_t D, const float* mean, const float* rstd,
                         const float* weight, float* dx, float* dweight, float* dbias) {
  const bool params = dweight || dbias;
  const int64_t blocks = std::min(R, kRowBlocks);
  // Partial column sums per row block: [blocks, D] each for dweight and dbias.
  std::vector<double> pw(params ? blocks * D : 0), pb(params ? blocks * D : 0);
#pragma omp parallel for schedule(static) if (go_parallel(R * D) && blocks > 1)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t r0 = R * blk / blocks, r1 = R * (blk + 1) / blocks;
    double* bw = params ? pw.data() + blk * D : nullptr;
    double* bb = params ? pb.data() + blk * D : nullptr;
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * D;
      const float* gr = dy + r * D;
      const float m = mean[r], rs = rstd[r];
      if (params) {
#pragma omp simd
        for (int64_t i = 0; i < D; ++i) {
          bw[i] += static_cast<double>(gr[i] * ((xr[i] - m) * rs));
          bb[i] += static_cast<double>(gr[i]);
        }
      }
      if (!dx)
        continue;
      // g = dy * w; dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
      double sg, sgx;
      if (weight)
        lane_sum2(
            D, [gr, weight](int64_t i) { return gr[i] * weight[i]; },
            [gr, weight, xr, m, rs](int64_t i) { return gr[i] * weight[i] * ((xr[i] - m) * rs); }, sg, sgx);
      else
        lane_sum2(
            D, [gr](int64_t i) { return gr[i]; }, [gr, xr, m, rs](int64_t i) { return gr[i] * ((xr[i] - m) * rs); }, sg,
            sgx);
      const float a = static_cast<float>(sg / static_cast<double>(D));
      const float b = static_cast<float>(sgx / static_cast<double>(D));
      float* dr = dx + r * D;
      if (weight) {
#pragma omp simd
        for (int64_t i = 0; i < D; ++i)
          dr[i] = rs * (gr[i] * weight[i] - a - (xr[i] - m) * rs * b);
      } else {
#pragma omp simd
        for (int64_t i = 0; i < D; ++i)
          dr[i] = rs * (gr[i] - a - (xr[i] - m) * rs * b);
      }
    }
  }
  if (!params)
    return;
#pragma omp parallel for schedule(static) if (go_parallel(blocks * D))
  for (int64_t i = 0; i < D; ++i) {
    double sw = 0.0, sb = 0.0;
    for (int64_t blk = 0; blk < blocks; ++blk) {
      sw += pw[blk * D + i];
      sb += pb[blk * D + i];
    }
    if (dweight)
      dweight[i] = static_cast<float>(sw);
    if (dbias)
      dbias[i] = static_cast<float>(sb);
  }
}

}  // namespace qnn::cpu
