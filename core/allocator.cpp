#include "core/allocator.h"

#include <sys/mman.h>

#include <bit>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace qnn {
namespace {

constexpr size_t kAlignment = 64;            // a cache line; also AVX-512 aligned
constexpr size_t kHugeThreshold = 1u << 20;  // from here on: mmap + MADV_HUGEPAGE
constexpr size_t kHugePage = 2u << 20;

struct CachingAllocator {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // size class -> cached blocks
  AllocatorStats stats;

  static void* system_allocate(size_t size) {
    if (size >= kHugeThreshold) {
      // Over-map by one huge page so the block can start on a 2 MiB boundary.
      const size_t mapped = size + kHugePage;
      void* raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (raw == MAP_FAILED)
        return nullptr;
      auto start = reinterpret_cast<uintptr_t>(raw);
      const uintptr_t aligned = (start + kHugePage - 1) & ~(uintptr_t)(kHugePage - 1);
      if (aligned > start)
        munmap(raw, aligned - start);
      const uintptr_t end = start + mapped, used_end = aligned + size;
      if (end > used_end)
        munmap(reinterpret_cast<void*>(used_end), end - used_end);
      madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
      return reinterpret_cast<void*>(aligned);
    }
    return std::aligned_alloc(kAlignment, size);
  }

  static void system_free(void* ptr, size_t size) {
    if (size >= kHugeThreshold)
      munmap(ptr, size);
    else
      std::free(ptr);
  }

  void release_cache_locked() {
    for (auto& [size, blocks] : free_blocks) {
      for (void* p : blocks)
        system_free(p, size);
      stats.reserved_bytes -= size * blocks.size();
    }
    free_blocks.clear();
  }

  void* allocate(size_t nbytes) {
    const size_t size = allocation_size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex);
    ++stats.allocations;
    void* ptr = nullptr;
    auto it = free_blocks.find(size);
    if (it != free_blocks.end() && !it->second.empty()) {
      ptr = it->second.back();
      it->second.pop_back();
      ++stats.cache_hits;
    } else {
      ptr = system_allocate(size);
      if (!ptr) {  // out of memory: give the cache back and try once more
        release_cache_locked();
        ptr = system_allocate(size);
      }
      QNN_CHECK(ptr, "allocate", "out of memory: requested " << nbytes << " bytes");
      stats.reserved_bytes += size;
    }
    stats.allocated_bytes += size;
    if (stats.allocated_bytes > stats.peak_allocated_bytes)
      stats.peak_allocated_bytes = stats.allocated_bytes;
    return ptr;
  }

  void deallocate(void* ptr, size_t nbytes) {
    if (!ptr)
      return;
    const size_t size = allocation_size_class(nbytes);
    std::lock_guard<std::mutex> lock(mutex);
    stats.allocated_bytes -= size;
    free_blocks[size].push_back(ptr);
  }
};

CachingAllocator& allocator() {
  // Leaked on purpose: tensors in static objects may be freed after main returns.
  static auto* instance = new CachingAllocator();
  return *instance;
}

}  // namespace

size_t allocation_size_class(size_t nbytes) {
  if (nbytes <= 4096)
    return ((std::max<size_t>(nbytes, 1) + kAlignment - 1) / kAlignment) * kAlignment;
  // Four classes per power of two: 2^k * {1, 1.25, 1.5, 1.75}.
  const size_t power = std::bit_floor(nbytes), quarter = power / 4;
  return ((nbytes + quarter - 1) / quarter) * quarter;
}

void* cpu_allocate(size_t nbytes) { return allocator().allocate(nbytes); }
void cpu_deallocate(void* ptr, size_t nbytes) { allocator().deallocate(ptr, nbytes); }

AllocatorStats cpu_allocator_stats() {
  std::lock_guard<std::mutex> lock(allocator().mutex);
  return allocator().stats;
}

void reset_peak_memory() {
  std::lock_guard<std::mutex> lock(allocator().mutex);
  allocator().stats.peak_allocated_bytes = allocator().stats.allocated_bytes;
}

void empty_cpu_cache() {
  std::lock_guard<std::mutex> lock(allocator().mutex);
  allocator().release_cache_locked();
}

}  // namespace qnn
