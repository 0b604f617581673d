#pragma once
// How `qnn bench ops` turns a time into a rate. The counts are those of
// shared/bench/torch_ops_cpu.py, so a qnn line and a torch line of the same op compare directly.
#include <algorithm>
#include <cstdint>
#include <vector>

namespace qnn::apps {

// sgemm n x n x n: one multiply and one add per inner-product term.
inline double sgemm_flop(int64_t n) { return 2.0 * n * n * n; }

// 3x3 convolution, padding 1, C_out = C_in = c: 2 * N * C_out * H * W * C_in * 9 flop forward.
// The backward computes two products of the same size (input and weight gradients), so
// forward+backward is 3x the forward.
inline double conv3x3_flop(int64_t n, int64_t c, int64_t h, int64_t w) { return 2.0 * n * c * h * w * c * 9; }

// Memory-bound elementwise ops: every tensor read or written once, 4 bytes a float.
inline double elementwise_bytes(int64_t numel, int tensors_touched) { return 4.0 * numel * tensors_touched; }

// Training batch norm, the minimal passes: forward reads x twice (statistics, normalize) and
// writes y (3 sizes); backward reads x and dy twice and writes dx (5 more sizes).
inline double batchnorm_forward_bytes(int64_t numel) { return 3.0 * 4 * numel; }
inline double batchnorm_forward_backward_bytes(int64_t numel) { return 8.0 * 4 * numel; }

// Giga-units per second (GFLOP/s or GB/s) for `amount` done in `ms` milliseconds.
inline double giga_per_second(double amount, double ms) { return amount / (ms * 1e-3) / 1e9; }

// Median as Python's statistics.median: the mean of the two middle values for an even count.
inline double median(std::vector<double> values) {
  if (values.empty())
    return 0.0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

}  // namespace qnn::apps
