#pragma once
// Runs a templated lambda for the C++ type of a DType:
//   dispatch_dtype(t.dtype(), [&]<class T>() { ... T* p = t.data<T>(); ... });
#include <cstdint>

#include "core/dtype.h"

namespace qnn {

template <class Fn>
decltype(auto) dispatch_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::Float32:
      return fn.template operator()<float>();
    case DType::Int64:
      return fn.template operator()<int64_t>();
    case DType::Int32:
      return fn.template operator()<int32_t>();
    case DType::UInt8:
      return fn.template operator()<uint8_t>();
  }
  return fn.template operator()<float>();
}

}  // namespace qnn
