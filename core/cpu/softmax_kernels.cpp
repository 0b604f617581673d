// Softmax, log_softmax and cross-entropy kernels. One row (or one tile of columns) is one task;
// its passes run while it is in cache. Sums over a row are taken in double (lane_sum), so results
// do not depend on the thread count.
#include "core/cpu/softmax_kernels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cpu/norm_sum.h"
#include "core/cpu/strided_loop.h"

namespace qnn::cpu {
namespace {

constexpr int64_t kTile = 256;  // columns per task when softmax runs over a strided dim

bool go_parallel(int64_t tasks, int64_t work) { return tasks > 1 && work >= kParallelGrain && !omp_in_parallel(); }

// Max of a contiguous run; NaNs are skipped here (they reappear through exp(NaN - m) = NaN).
float row_max(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i)
    m = x[i] > m ? x[i] : m;
  return m;
}

void softmax_row(const float* x, int64_t K, bool log, float* y) {
  const float m = row_max(x, K);
  if (log) {
    const float ls = static_cast<float>(std::log(lane_sum(K, [x, m](int64_t i) { return fast_exp(x[i] - m); })));
#pragma omp simd
    for (int64_t i = 0; i < K; ++i)
      y[i] = (x[i] - m) - ls;
    return;
  }
#pragma omp simd
  for (int64_t i = 0; i < K; ++i)
    y[i] = fast_exp(x[i] - m);
  const float inv = static_cast<float>(1.0 / lane_sum(K, [y](int64_t i) { return y[i]; }));
#pragma omp simd
  for (int64_t i = 0; i < K; ++i)
    y[i] *= inv;
}

// Columns [i0, i1) of one [K, inner] block: the same three passes, vectorized along the columns.
void softmax_cols(const float* x, int64_t K, int64_t inner, int64_t i0, int64_t i1, bool log, float* y) {
  float m[kTile], f[kTile];
  double s[kTile];
  const int64_t w = i1 - i0;
  x += i0;
  y += i0;
  for (int64_t i = 0; i < w; ++i) {
    m[i] = -std::numeric_limits<float>::infinity();
    s[i] = 0.0;
  }
  for (int64_t k = 0; k < K; ++k) {
    const float* xk = x + k * inner;
#pragma omp simd
    for (int64_t i = 0; i < w; ++i)
      m[i] = xk[i] > m[i] ? xk[i] : m[i];
  }
  for (int64_t k = 0; k < K; ++k) {
    const float* xk = x + k * inner;
    float* yk = y + k * inner;
#pragma omp simd
    for (int64_t i = 0; i < w; ++i) {
      const float e = fast_exp(xk[i] - m[i]);
      if (!log)
        yk[i] = e;
      s[i] += e;
    }
  }
  for (int64_t i = 0; i < w; ++i)
    f[i] = log ? static_cast<float>(std::log(s[i])) : static_cast<float>(1.0 / s[i]);
  for (int64_t k = 0; k < K; ++k) {
    const float* xk = x + k * inner;
    float* yk = y + k * inner;
    if (log) {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i)
        yk[i] = (xk[i] - m[i]) - f[i];
    } else {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i)
        yk[i] *= f[i];
    }
  }
}

void softmax_backward_row(const float* y, const float* dy, int64_t K, bool log, float* dx) {
  if (log) {
    const float s = static_cast<float>(lane_sum(K, [dy](int64_t i) { return dy[i]; }));
#pragma omp simd
    for (int64_t i = 0; i < K; ++i)
      dx[i] = dy[i] - fast_exp(y[i]) * s;
    return;
  }
  const float dot = static_cast<float>(lane_sum(K, [y, dy](int64_t i) { return dy[i] * y[i]; }));
#pragma omp simd
  for (int64_t i = 0; i < K; ++i)
    dx[i] = y[i] * (dy[i] - dot);
}

void softmax_backward_cols(const float* y, const float* dy, int64_t K, int64_t inner, int64_t i0, int64_t i1, bool log,
                           float* dx) {
  double s[kTile];
  float f[kTile];
  const int64_t w = i1 - i0;
  y += i0;
  dy += i0;
  dx += i0;
  for (int64_t i = 0; i < w; ++i)
    s[i] = 0.0;
  for (int64_t k = 0; k < K; ++k) {
    const float* yk = y + k * inner;
    const float* gk = dy + k * inner;
#pragma omp simd
    for (int64_t i = 0; i < w; ++i)
      s[i] += log ? gk[i] : gk[i] * yk[i];
  }
  for (int64_t i = 0; i < w; ++i)
    f[i] = static_cast<float>(s[i]);
  for (int64_t k = 0; k < K; ++k) {
    const float* yk = y + k * inner;
    const float* gk = dy + k * inner;
    float* dk = dx + k * inner;
    if (log) {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i)
        dk[i] = gk[i] - fast_exp(yk[i]) * f[i];
    } else {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i)
        dk[i] = yk[i] * (gk[i] - f[i]);
    }
  }
}

}  // namespace

void softmax_forward(const float* x, SoftmaxShape s, bool log, float* y) {
  if (s.inner == 1) {
#pragma omp parallel for schedule(static) if (go_parallel(s.outer, s.numel()))
    for (int64_t o = 0; o < s.outer; ++o)
      softmax_row(x + o * s.K, s.K, log, y + o * s.K);
    return;
  }
  const int64_t tiles = (s.inner + kTile - 1) / kTile, tasks = s.outer * tiles;
#pragma omp parallel for schedule(static) if (go_parallel(tasks, s.numel()))
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t o = t / tiles, i0 = (t % tiles) * kTile, off = o * s.K * s.inner;
    softmax_cols(x + off, s.K, s.inner, i0, std::min(s.inner, i0 + kTile), log, y + off);
  }
}

void softmax_backward(const float* y, const float* dy, SoftmaxShape s, bool log, float* dx) {
  if (s.inner == 1) {
#pragma omp parallel for schedule(static) if (go_parallel(s.outer, s.numel()))
    for (int64_t o = 0; o < s.outer; ++o)
      softmax_backward_row(y + o * s.K, dy + o * s.K, s.K, log, dx + o * s.K);
    return;
  }
  const int64_t tiles = (s.inner + kTile - 1) / kTile, tasks = s.outer * tiles;
#pragma omp parallel for schedule(static) if (go_parallel(tasks, s.numel()))
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t o = t / tiles, i0 = (t % tiles) * kTile, off = o * s.K * s.inner;
    softmax_backward_cols(y + off, dy + off, s.K, s.inner, i0, std::min(s.inner, i0 + kTile), log, dx + off);
  }
}

void cross_entropy_forward(const float* z, int64_t N, int64_t C, const int64_t* target, const float* soft, float eps,
                           float* loss, float* m, float* ls) {
  const float uniform = eps / static_cast<float>(C), keep = 1.0f - eps;
#pragma omp parallel for schedule(static) if (go_parallel(N, N * C))
  for (int64_t n = 0; n < N; ++n) {
    const float* zr = z + n * C;
    const float mr = row_max(zr, C);
    const double lsd = std::log(lane_sum(C, [zr, mr](int64_t i) { return fast_exp(zr[i] - mr); }));
    const float lsr = static_cast<float>(lsd);
    m[n] = mr;
    ls[n] = lsr;
    // -log_softmax(z)_c = (m - z_c) + ls: two non-negative terms, no cancellation.
    if (target) {
      double l = static_cast<double>(mr - zr[target[n]]) + lsd;
      if (eps > 0.0f) {
        const double smooth = lane_sum(C, [zr, mr](int64_t i) { return mr - zr[i]; }) / static_cast<double>(C) + lsd;
        l = keep * l + eps * smooth;
      }
      loss[n] = static_cast<float>(l);
    } else {
      const float* q = soft + n * C;
      loss[n] =
          static_cast<float>(lane_sum(C, [=](int64_t i) { return (keep * q[i] + uniform) * ((mr - zr[i]) + lsr); }));
    }
  }
}

void cross_entropy_backward(const float* z, int64_t N, int64_t C, const int64_t* target, const float* soft, float eps,
                            const float* m, const float* ls, const float* g, int64_t g_stride, float* dz,
                            float* dsoft) {
  const float uniform = eps / static_cast<float>(C), keep = 1.0f - eps;
#pragma omp parallel for schedule(static) if (go_parallel(N, N * C))
  for (int64_t n = 0; n < N; ++n) {
    const float* zr = z + n * C;
    const float gn = g[n * g_stride], mr = m[n], lsr = ls[n];
    float* dzr = dz ? dz + n * C : nullptr;
    if (target) {  // q' = eps / C everywhere plus (1 - eps) at the target; it sums to 1
      if (dzr) {
#pragma omp simd
        for (int64_t i = 0; i < C; ++i)
          dzr[i] = gn * (fast_exp((zr[i] - mr) - lsr) - uniform);
        dzr[target[n]] -= gn * keep;
      }
      continue;
    }
    const float* q = soft + n * C;
    if (dzr) {
      const float sq = static_cast<float>(lane_sum(C, [=](int64_t i) { return keep * q[i] + uniform; }));
#pragma omp simd
      for (int64_t i = 0; i < C; ++i)
        dzr[i] = gn * (fast_exp((zr[i] - mr) - lsr) * sq - (keep * q[i] + uniform));
    }
    if (dsoft) {
      float* dq = dsoft + n * C;
      const float k = -gn * keep;
#pragma omp simd
      for (int64_t i = 0; i < C; ++i)
        dq[i] = k * ((zr[i] - mr) - lsr);
    }
  }
}

}  // namespace qnn::cpu
