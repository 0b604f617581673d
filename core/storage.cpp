#include "core/storage.h"

#include "core/allocator.h"
#include "core/cuda/cuda_runtime.h"
#include "core/error.h"

namespace qnn {

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device.is_cpu())
    data_ = cpu_allocate(nbytes);
  else
    data_ = cuda_allocate(nbytes, device.index);
}

Storage::~Storage() {
  if (device_.is_cpu())
    cpu_deallocate(data_, nbytes_);
  else
    cuda_deallocate(data_, nbytes_, device_.index);
}

}  // namespace qnn
