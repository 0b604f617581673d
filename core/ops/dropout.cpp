#include "core/ops/dropout.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "core/autograd.h"
#include "core/cpu/binary_loop.h"

namespace qnn {
namespace {

// The mask is drawn in fixed chunks, each from its own stream seeded (in order) by the caller's
// generator: parallel, yet the same seed gives the same mask for any thread count.
constexpr int64_t kChunk = 1 << 16;

// out = keep ? x * scale : 0, with keep drawn as a 32-bit uniform >= threshold (two per u64).
void dropout_kernel(const float* x, float* out, uint8_t* mask, int64_t n, uint32_t threshold, float scale,
                    const std::vector<uint64_t>& seeds) {
  const int64_t chunks = static_cast<int64_t>(seeds.size());
#pragma omp parallel for schedule(static) if (n >= cpu::kParallelGrain && chunks > 1 && !omp_in_parallel())
  for (int64_t c = 0; c < chunks; ++c) {
    Generator gen(seeds[c]);
    const int64_t begin = c * kChunk, end = std::min(n, begin + kChunk);
    for (int64_t i = begin; i < end; i += 2) {
      const uint64_t u = gen.next_u64();
      const bool k0 = static_cast<uint32_t>(u) >= threshold, k1 = static_cast<uint32_t>(u >> 32) >= threshold;
      mask[i] = k0;
      out[i] = k0 ? x[i] * scale : 0.0f;
      if (i + 1 < end) {
        mask[i + 1] = k1;
        out[i + 1] = k1 ? x[i + 1] * scale : 0.0f;
      }
    }
  }
}

}  // namespace

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
  const char* op = "dropout";
  cpu::check_float_cpu(op, x);
  QNN_CHECK(p >= 0.0f && p < 1.0f, op, "got p = " << p << " (expected 0 <= p < 1)");
  if (!training || p == 0.0f)
    return x;
  const Tensor xc = x.contiguous();
  const int64_t n = xc.numel();
  const float scale = 1.0f / (1.0f - p);
  const uint32_t threshold = static_cast<uint32_t>(static_cast<double>(p) * 4294967296.0);
  std::vector<uint64_t> seeds((n + kChunk - 1) / kChunk);
  for (uint64_t& s : seeds)
    s = gen.next_u64();
  Tensor out = Tensor::empty(x.shape());
  Tensor mask = Tensor::empty(x.shape(), DType::UInt8);
  dropout_kernel(xc.data<float>(), out.data<float>(), mask.data<uint8_t>(), n, threshold, scale, seeds);
  record(op, out, {x}, [mask, scale](const Tensor& g) {
    const Tensor gc = g.contiguous();
    Tensor dx = Tensor::empty(gc.shape());
    const float* pg = gc.data<float>();
    const uint8_t* pm = mask.data<uint8_t>();
    float* pd = dx.data<float>();
    const int64_t count = gc.numel();
#pragma omp parallel for simd schedule(static) if (count >= cpu::kParallelGrain && !omp_in_parallel())
    for (int64_t i = 0; i < count; ++i)
      pd[i] = pm[i] ? pg[i] * scale : 0.0f;
    return std::vector<Tensor>{dx};
  });
  return out;
}

}  // namespace qnn
