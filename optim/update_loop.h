#pragma once
// The loop under the fused optimizer updates: fn(begin, end) over [0, n), split in chunks across
// OpenMP threads when n is large. Updates are elementwise, so the result does not depend on the
// split (or the thread count): a resumed run stays bit-identical on any machine size.
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "core/cpu/strided_loop.h"

namespace qnn::optim {

template <class Fn>
void parallel_chunks(int64_t n, Fn&& fn) {
  const bool parallel = n >= cpu::kParallelGrain && !omp_in_parallel();
  const int64_t chunks = parallel ? std::min<int64_t>(omp_get_max_threads() * 4, n / 4096 + 1) : 1;
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c)
    fn(n * c / chunks, n * (c + 1) / chunks);
}

}  // namespace qnn::optim
