// The CUDA runtime entry points when qnn is built without CUDA: no devices, and a clear error for
// anything that would need one.
#ifndef QNN_WITH_CUDA
#include "core/cuda/cuda_runtime.h"
#include "core/error.h"

namespace qnn {

bool cuda_compiled() { return false; }
int cuda_device_count() { return 0; }
std::vector<std::string> cuda_device_names() { return {}; }

void* cuda_allocate(size_t nbytes, int device) {
  QNN_CHECK(false, "cuda_allocate",
            "got a request for " << nbytes << " bytes on cuda:" << device
                                 << " (expected a build with the CUDA backend: configure with -DQNN_CUDA=ON)");
  return nullptr;
}
void cuda_deallocate(void*, size_t, int) {}
void cuda_copy(void*, const void*, size_t, const char* kind) {
  QNN_CHECK(false, "cuda_copy", "got a " << kind << " copy (expected a build with the CUDA backend)");
}

}  // namespace qnn
#endif
