// Batch norm kernels. Two layouts of x [N, C, HW]:
// - planes (HW >= kPlaneMin): each (n, c) plane is a contiguous run. Work is split over the N*C
//   planes (so every thread is busy even with few channels); each plane yields partial sums that
//   are combined per channel in plane order, which keeps results independent of the thread count.
// - columns (small HW, e.g. [N, C]): x is a matrix [N, C*HW]; column sums over n are vectorized
//   across columns and split over fixed column blocks.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu/norm_kernels.h"
#include "core/cpu/norm_sum.h"
#include "core/cpu/strided_loop.h"

namespace qnn::cpu {
namespace {

constexpr int64_t kPlaneMin = 16;
constexpr int64_t kColumnBlock = 256;

bool go_parallel(int64_t work) { return work >= kParallelGrain && !omp_in_parallel(); }

// Column sums over n of f(n, k) for k in [0, K), in double, split over fixed column blocks.
template <class F>
void column_sums(int64_t N, int64_t K, double* out, F f) {
  const int64_t blocks = (K + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(static) if (go_parallel(N * K) && blocks > 1)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t k0 = blk * kColumnBlock, k1 = std::min(K, k0 + kColumnBlock);
    double acc[kColumnBlock] = {};
    for (int64_t n = 0; n < N; ++n) {
#pragma omp simd
      for (int64_t k = k0; k < k1; ++k)
        acc[k - k0] += static_cast<double>(f(n, k));
    }
    for (int64_t k = k0; k < k1; ++k)
      out[k] = acc[k - k0];
  }
}

// Per channel sums of the HW columns of each channel.
void columns_to_channels(const std::vector<double>& cols, BnShape s, double* out) {
  for (int64_t c = 0; c < s.C; ++c) {
    double acc = 0.0;
    for (int64_t h = 0; h < s.HW; ++h)
      acc += cols[c * s.HW + h];
    out[c] = acc;
  }
}

// Expands per-channel values to per-column values (column k belongs to channel k / HW).
std::vector<float> expand_columns(const float* v, BnShape s) {
  std::vector<float> out(s.C * s.HW);
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t h = 0; h < s.HW; ++h)
      out[c * s.HW + h] = v[c];
  return out;
}

}  // namespace

void batch_norm_stats(const float* x, BnShape s, double* mean, double* var) {
  const int64_t M = s.count(), planes = s.N * s.C;
  if (s.HW >= kPlaneMin) {
    // Per plane: mean and centered sum of squares, by the corrected two-pass algorithm (the second
    // pass re-sums the deviations from the first mean, which fixes that mean's float rounding). The
    // plane is still in L1/L2 for the second pass.
    std::vector<double> pm(planes), pq(planes);
#pragma omp parallel for schedule(static) if (go_parallel(planes * s.HW))
    for (int64_t p = 0; p < planes; ++p) {
      const float* xp = x + p * s.HW;
      const float m0 =
          static_cast<float>(lane_sum(s.HW, [xp](int64_t i) { return xp[i]; }) / static_cast<double>(s.HW));
      double sd, sq;
      lane_sum2(
          s.HW, [xp, m0](int64_t i) { return xp[i] - m0; },
          [xp, m0](int64_t i) {
            const float d = xp[i] - m0;
            return d * d;
          },
          sd, sq);
      pm[p] = m0 + sd / static_cast<double>(s.HW);
      pq[p] = sq - sd * sd / static_cast<double>(s.HW);
    }
    // Combine the planes of each channel (equal counts): M2 = sum M2_p + HW * sum (m_p - m)^2.
    for (int64_t c = 0; c < s.C; ++c) {
      double m = 0.0;
      for (int64_t n = 0; n < s.N; ++n)
        m += pm[n * s.C + c];
      m /= static_cast<double>(s.N);
      double q = 0.0;
      for (int64_t n = 0; n < s.N; ++n) {
        const double d = pm[n * s.C + c] - m;
        q += pq[n * s.C + c] + static_cast<double>(s.HW) * d * d;
      }
      mean[c] = m;
      var[c] = q / static_cast<double>(M);
    }
    return;
  }
  const int64_t K = s.C * s.HW;
  std::vector<double> cols(K);
  column_sums(s.N, K, cols.data(), [x, K](int64_t n, int64_t k) { return x[n * K + k]; });
  columns_to_channels(cols, s, mean);
  std::vector<float> mk(K);
  for (int64_t c = 0; c < s.C; ++c) {
    mean[c] /= static_cast<double>(M);
    for (int64_t h = 0; h < s.HW; ++h)
      mk[c * s.HW + h] = static_cast<float>(mean[c]);
  }
  const float* mkp = mk.data();
  column_sums(s.N, K, cols.data(), [x, K, mkp](int64_t n, int64_t k) {
    const float d = x[n * K + k] - mkp[k];
    return d * d;
  });
  columns_to_channels(cols, s, var);
  for (int64_t c = 0; c < s.C; ++c) {
    const double dm = mean[c] - static_cast<float>(mean[c]);  // rounding of the centering value
    var[c] = var[c] / static_cast<double>(M) - dm * dm;
  }
}

void batch_norm_apply(const float* x, BnShape s, const float* center, const float* scale, const float* shift,
                      float* y) {
  const int64_t planes = s.N * s.C;
  if (s.HW >= kPlaneMin) {
#pragma omp parallel for schedule(static) if (go_parallel(planes * s.HW))
    for (int64_t p = 0; p < planes; ++p) {
      const float m = center[p % s.C], a = scale[p % s.C], b = shift[p % s.C];
      const float* xp = x + p * s.HW;
      float* yp = y + p * s.HW;
#pragma omp simd
      for (int64_t i = 0; i < s.HW; ++i)
        yp[i] = (xp[i] - m) * a + b;
    }
    return;
  }
  const int64_t K = s.C * s.HW;
  const std::vector<float> mk = expand_columns(center, s), ak = expand_columns(scale, s), bk = expand_columns(shift, s);
  const float *mp = mk.data(), *ap = ak.data(), *bp = bk.data();
#pragma omp parallel for schedule(static) if (go_parallel(s.N * K))
  for (int64_t n = 0; n < s.N; ++n) {
    const float* xr = x + n * K;
    float* yr = y + n * K;
#pragma omp simd
    for (int64_t k = 0; k < K; ++k)
      yr[k] = (xr[k] - mp[k]) * ap[k] + bp[k];
  }
}

void batch_norm_backward_sums(const float* dy, const float* x, BnShape s, const float* mean, double* sum_dy,
                              double* sum_dy_xmu) {
  const int64_t planes = s.N * s.C;
  if (s.HW >= kPlaneMin) {
    std::vector<double> ps(planes), pt(planes);
#pragma omp parallel for schedule(static) if (go_parallel(planes * s.HW))
    for (int64_t p = 0; p < planes; ++p) {
      const float* xp = x + p * s.HW;
      const float* gp = dy + p * s.HW;
      const float m = mean[p % s.C];
      lane_sum2(
          s.HW, [gp](int64_t i) { return gp[i]; }, [gp, xp, m](int64_t i) { return gp[i] * (xp[i] - m); }, ps[p],
          pt[p]);
    }
    for (int64_t c = 0; c < s.C; ++c) {
      double a = 0.0, b = 0.0;
      for (int64_t n = 0; n < s.N; ++n) {
        a += ps[n * s.C + c];
        b += pt[n * s.C + c];
      }
      sum_dy[c] = a;
      sum_dy_xmu[c] = b;
    }
    return;
  }
  const int64_t K = s.C * s.HW;
  std::vector<double> cols(K);
  const std::vector<float> mk = expand_columns(mean, s);
  const float* mkp = mk.data();
  column_sums(s.N, K, cols.data(), [dy, K](int64_t n, int64_t k) { return dy[n * K + k]; });
  columns_to_channels(cols, s, sum_dy);
  column_sums(s.N, K, cols.data(),
              [dy, x, K, mkp](int64_t n, int64_t k) { return dy[n * K + k] * (x[n * K + k] - mkp[k]); });
  columns_to_channels(cols, s, sum_dy_xmu);
}

void batch_norm_backward_dx(const float* dy, const float* x, BnShape s, const float* center, const float* a,
                            const float* b, const float* d, float* dx) {
  const int64_t planes = s.N * s.C;
  if (s.HW >= kPlaneMin) {
#pragma omp parallel for schedule(static) if (go_parallel(planes * s.HW))
    for (int64_t p = 0; p < planes; ++p) {
      const int64_t c = p % s.C;
      const float mc = center[c], ac = a[c], bc = b[c], dc = d[c];
      const float* xp = x + p * s.HW;
      const float* gp = dy + p * s.HW;
      float* op = dx + p * s.HW;
#pragma omp simd
      for (int64_t i = 0; i < s.HW; ++i)
        op[i] = ac * gp[i] + bc * (xp[i] - mc) + dc;
    }
    return;
  }
  const int64_t K = s.C * s.HW;
  const std::vector<float> mk = expand_columns(center, s), ak = expand_columns(a, s), bk = expand_columns(b, s),
                           dk = expand_columns(d, s);
  const float *mp = mk.data(), *ap = ak.data(), *bp = bk.data(), *dp = dk.data();
#pragma omp parallel for schedule(static) if (go_parallel(s.N * K))
  for (int64_t n = 0; n < s.N; ++n) {
    const float* xr = x + n * K;
    const float* gr = dy + n * K;
    float* orow = dx + n * K;
#pragma omp simd
    for (int64_t k = 0; k < K; ++k)
      orow[k] = ap[k] * gr[k] + bp[k] * (xr[k] - mp[k]) + dp[k];
  }
}

}  // namespace qnn::cpu
