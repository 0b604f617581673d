#include "apps/startup.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/parallel.h"

namespace qnn::apps {

void restart_with_fast_blas(char** argv) {
  bool changed = false;
  const std::string coretype = recommended_blas_coretype();
  if (!coretype.empty()) {
    setenv("OPENBLAS_CORETYPE", coretype.c_str(), 1);
    changed = true;
  }
  // libgomp's idle threads spin 300,000 rounds before sleeping. On a 2-vCPU VM that spinning
  // halves the speed of models with many small parallel regions (DeiT-Ti step 1.3 s -> 0.70 s with
  // 10,000) and does not help ResNet-20 (600-630 -> 700 img/s). Only when the user set neither.
  if (std::getenv("GOMP_SPINCOUNT") == nullptr && std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("GOMP_SPINCOUNT", "10000", 1);
    changed = true;
  }
  if (changed)
    execv("/proc/self/exe", argv);  // returns only on failure: then go on as we are
}

}  // namespace qnn::apps
