#include "core/parallel.h"

#include <cblas.h>
#include <omp.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "core/error.h"

namespace qnn {

void set_num_threads(int n) {
  QNN_CHECK(n >= 1, "set_num_threads", "got " << n << " (expected >= 1)");
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int num_threads() {
  init_threads();
  return omp_get_max_threads();
}

void init_threads() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("QNN_NUM_THREADS");
    int n = omp_get_num_procs();
    if (env && *env) {
      char* end = nullptr;
      const long v = std::strtol(env, &end, 10);
      QNN_CHECK(end && *end == '\0' && v >= 1, "QNN_NUM_THREADS", "got '" << env << "' (expected an integer >= 1)");
      n = static_cast<int>(v);
    }
    set_num_threads(n);
  });
}

// Runs init_threads when the library is loaded, so every entry point honours QNN_NUM_THREADS.
namespace {
[[maybe_unused]] const bool g_threads_initialized = (init_threads(), true);
}

std::string blas_name() {
  std::string config = openblas_get_config();
  const int parallel = openblas_get_parallel();  // 0: sequential, 1: pthreads, 2: OpenMP
  return "OpenBLAS (" + config + ", " + (parallel == 2 ? "OpenMP" : parallel == 1 ? "pthreads" : "sequential") + ")";
}

std::string blas_kernel() { return openblas_get_corename(); }

std::string recommended_blas_coretype() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr)
    return "";  // the user chose (or this is the re-executed process)
  const char* chosen = openblas_get_corename();
  const bool fallback = std::strcmp(chosen, "Prescott") == 0 || std::strcmp(chosen, "Core2") == 0 ||
                        std::strcmp(chosen, "Nehalem") == 0 || std::strcmp(chosen, "Sandybridge") == 0;
  if (!fallback)
    return "";
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return "Haswell";
  return "";
}

}  // namespace qnn
