// `qnn info`: what this build is and what it sees (version, build type, BLAS and its kernel,
// threads, CUDA compiled or not, GPUs).
#include <sys/resource.h>

#include <iostream>

#include "apps/commands.h"
#include "core/allocator.h"
#include "core/cuda/cuda_runtime.h"
#include "core/parallel.h"

namespace qnn::apps {

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Print the version, build, BLAS, threads and GPUs");
  cmd->callback([] {
    std::cout << "qnn " << QNN_VERSION << '\n'
              << "build type:   " << QNN_BUILD_TYPE << '\n'
              << "blas:         " << blas_name() << '\n'
              << "blas kernel:  " << blas_kernel() << '\n'
              << "threads:      " << num_threads() << " (QNN_NUM_THREADS; one OpenMP pool shared with BLAS)\n"
              << "cuda:         " << (cuda_compiled() ? "compiled in" : "not compiled in") << '\n';
    const auto gpus = cuda_device_names();
    std::cout << "gpus:         " << gpus.size() << '\n';
    for (size_t i = 0; i < gpus.size(); ++i)
      std::cout << "  cuda:" << i << "  " << gpus[i] << '\n';
    // Peak bytes of this process: what the caching allocator handed to tensors, and the resident
    // set the kernel saw (BLAS and OpenMP buffers included).
    const AllocatorStats stats = cpu_allocator_stats();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::cout << "memory:       tensors peak " << stats.peak_allocated_bytes << " B, reserved " << stats.reserved_bytes
              << " B; process peak RSS " << usage.ru_maxrss << " KiB\n";
  });
}

}  // namespace qnn::apps
