#pragma once
// The CPU caching allocator. On this machine a freshly faulted page costs ~2.5 us, so an
// allocating 64 MiB op spends ~95 ms in page faults (shared/bench/BASELINE.md). Freed blocks go
// to a free list keyed by size class and are handed out again; blocks of 1 MiB and more are
// mapped 2 MiB-aligned and advised to use transparent huge pages.
#include <cstddef>
#include <cstdint>

namespace qnn {

struct AllocatorStats {
  size_t allocated_bytes = 0;       // in live tensors now
  size_t peak_allocated_bytes = 0;  // high-water mark of allocated_bytes since the last reset
  size_t reserved_bytes = 0;        // allocated + cached in free lists
  uint64_t allocations = 0;         // calls to allocate
  uint64_t cache_hits = 0;          // allocations served from a free list
};

// The size actually reserved for a request: size classes four to a power of two (<= 25% waste).
size_t allocation_size_class(size_t nbytes);

void* cpu_allocate(size_t nbytes);
void cpu_deallocate(void* ptr, size_t nbytes);

AllocatorStats cpu_allocator_stats();
void reset_peak_memory();
void empty_cpu_cache();  // returns every cached block to the operating system

}  // namespace qnn
