#pragma once
// The CUDA runtime as the rest of core sees it. Without the CUDA backend compiled in, these
// functions exist and report that no GPU is available (cuda_runtime_stub.cpp), so callers never
// need #ifdefs.
#include <cstddef>
#include <string>
#include <vector>

namespace qnn {

bool cuda_compiled();  // was the CUDA backend built?
int cuda_device_count();
std::vector<std::string> cuda_device_names();

void* cuda_allocate(size_t nbytes, int device);
void cuda_deallocate(void* ptr, size_t nbytes, int device);
// Byte copies between host and device (kind: "h2d", "d2h" or "d2d").
void cuda_copy(void* dst, const void* src, size_t nbytes, const char* kind);

}  // namespace qnn
