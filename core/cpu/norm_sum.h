#pragma once
// Fast, accurate sums for the norm kernels. A single double accumulator would be latency-bound
// (one vector add every 4 cycles); instead 64 float lanes (four AVX-512 registers) accumulate
// blocks of at most kFlush elements, and each block's lanes are added into double. Within a block a
// lane sums at most kFlush / 64 values, so float rounding stays near 1e-7 relative.
#include <cstdint>

namespace qnn::cpu {

constexpr int kLanes = 64;
constexpr int64_t kFlush = 4096;

// Returns sum over i in [0, n) of f(i), for f returning float.
template <class F>
inline double lane_sum(int64_t n, F f) {
  double total = 0.0;
  for (int64_t start = 0; start < n; start += kFlush) {
    const int64_t end = start + kFlush < n ? start + kFlush : n;
    float acc[kLanes] = {};
    int64_t i = start;
    for (; i + kLanes <= end; i += kLanes) {
#pragma omp simd
      for (int j = 0; j < kLanes; ++j)
        acc[j] += f(i + j);
    }
    float tail = 0.0f;
    for (; i < end; ++i)
      tail += f(i);
    double block = tail;
    for (int j = 0; j < kLanes; ++j)
      block += acc[j];
    total += block;
  }
  return total;
}

// Two sums in one pass over the data: (sum of f(i), sum of g(i)).
template <class F, class G>
inline void lane_sum2(int64_t n, F f, G g, double& sf, double& sg) {
  sf = 0.0;
  sg = 0.0;
  for (int64_t start = 0; start < n; start += kFlush) {
    const int64_t end = start + kFlush < n ? start + kFlush : n;
    float af[kLanes] = {}, ag[kLanes] = {};
    int64_t i = start;
    for (; i + kLanes <= end; i += kLanes) {
#pragma omp simd
      for (int j = 0; j < kLanes; ++j) {
        af[j] += f(i + j);
        ag[j] += g(i + j);
      }
    }
    double bf = 0.0, bg = 0.0;
    for (; i < end; ++i) {
      bf += f(i);
      bg += g(i);
    }
    for (int j = 0; j < kLanes; ++j) {
      bf += af[j];
      bg += ag[j];
    }
    sf += bf;
    sg += bg;
  }
}

}  // namespace qnn::cpu
