// The CUDA runtime entry points of the CUDA backend: device discovery, memory and copies.
#include <cuda_runtime_api.h>

#include "core/cuda/cuda_runtime.h"
#include "core/error.h"

namespace qnn {
namespace {
void check_cuda(cudaError_t status, const char* op) {
  QNN_CHECK(status == cudaSuccess, op, "CUDA error " << cudaGetErrorString(status));
}
}  // namespace

bool cuda_compiled() { return true; }

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: report none, not an error
    return 0;
  }
  return count;
}

std::vector<std::string> cuda_device_names() {
  std::vector<std::string> names;
  for (int i = 0; i < cuda_device_count(); ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) == cudaSuccess)
      names.emplace_back(prop.name);
  }
  return names;
}

void* cuda_allocate(size_t nbytes, int device) {
  QNN_CHECK(device < cuda_device_count(), "cuda_allocate",
            "got cuda:" << device << " (expected one of the " << cuda_device_count() << " GPUs seen)");
  check_cuda(cudaSetDevice(device), "cuda_allocate");
  void* ptr = nullptr;
  check_cuda(cudaMalloc(&ptr, nbytes ? nbytes : 1), "cuda_allocate");
  return ptr;
}

void cuda_deallocate(void* ptr, size_t, int device) {
  cudaSetDevice(device);
  cudaFree(ptr);
}

void cuda_copy(void* dst, const void* src, size_t nbytes, const char* kind) {
  const std::string k = kind;
  const cudaMemcpyKind direction = k == "h2d"   ? cudaMemcpyHostToDevice
                                   : k == "d2h" ? cudaMemcpyDeviceToHost
                                                : cudaMemcpyDeviceToDevice;
  check_cuda(cudaMemcpy(dst, src, nbytes, direction), "cuda_copy");
}

}  // namespace qnn
