#pragma once
// Shared CPU loops for float32 elementwise ops: out = f(a, b) with broadcasting, out = f(a), and
// in-place self = f(self, other). Contiguous same-shape inputs take a flat loop the compiler
// vectorizes (AVX2/AVX-512 with -march=native); everything else goes through strided_loop.
#include "core/cpu/strided_loop.h"
#include "core/error.h"
#include "core/tensor.h"

namespace qnn::cpu {

// Strides of `t` seen as `target` (a broadcast of t's shape): 0 where t is broadcast.
inline Shape broadcast_strides(const Tensor& t, const Shape& target) {
  Shape strides(target.size(), 0);
  const size_t lead = target.size() - t.shape().size();
  for (size_t i = 0; i < t.shape().size(); ++i)
    strides[lead + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  return strides;
}

inline void check_float_cpu(const char* op, const Tensor& t) {
  QNN_CHECK(t.defined(), op, "got an undefined tensor");
  QNN_CHECK(t.dtype() == DType::Float32, op, "got dtype " << t.dtype() << " (expected float32)");
  QNN_CHECK(t.device().is_cpu(), op, "got a tensor on " << t.device() << " (expected cpu; no CUDA kernel yet)");
}

inline void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  QNN_CHECK(a.device() == b.device(), op,
            "got tensors on " << a.device() << " and " << b.device() << " (expected one device)");
}

template <class F>
void binary_kernel(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  float* po = static_cast<float*>(out.storage()->data());
  const float* pa = static_cast<const float*>(a.storage()->data());
  const float* pb = static_cast<const float*>(b.storage()->data());
  const Shape& shape = out.shape();
  strided_loop<3>(shape, {out.strides(), broadcast_strides(a, shape), broadcast_strides(b, shape)},
                  {out.offset(), a.offset(), b.offset()},
                  [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& st) {
                    float* o = po + off[0];
                    const float* x = pa + off[1];
                    const float* y = pb + off[2];
                    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
#pragma omp simd
                      for (int64_t i = 0; i < n; ++i)
                        o[i] = f(x[i], y[i]);
                    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
                      const float yv = *y;
#pragma omp simd
                      for (int64_t i = 0; i < n; ++i)
                        o[i] = f(x[i], yv);
                    } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
                      const float xv = *x;
#pragma omp simd
                      for (int64_t i = 0; i < n; ++i)
                        o[i] = f(xv, y[i]);
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        o[i * st[0]] = f(x[i * st[1]], y[i * st[2]]);
                    }
                  });
}

// out = f(a, b) with broadcasting; a new contiguous tensor.
template <class F>
Tensor binary_op(const char* op, const Tensor& a, const Tensor& b, F f) {
  check_float_cpu(op, a);
  check_float_cpu(op, b);
  check_same_device(op, a, b);
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), op), DType::Float32, a.device());
  binary_kernel(out, a, b, f);
  return out;
}

// self = f(self, other), other broadcast to self's shape.
template <class F>
void inplace_op(const char* op, const Tensor& self, const Tensor& other, F f) {
  check_float_cpu(op, self);
  check_float_cpu(op, other);
  QNN_CHECK(broadcast_shapes(self.shape(), other.shape(), op) == self.shape(), op,
            "cannot broadcast " << shape_str(other.shape()) << " into " << shape_str(self.shape())
                                << " in place (expected other to broadcast to self's shape)");
  binary_kernel(self, self, other, f);
}

// out = f(a); a new contiguous tensor.
template <class F>
Tensor unary_op(const char* op, const Tensor& a, F f) {
  check_float_cpu(op, a);
  Tensor out = Tensor::empty(a.shape(), DType::Float32, a.device());
  float* po = out.data<float>();
  const float* pa = static_cast<const float*>(a.storage()->data());
  strided_loop<2>(a.shape(), {out.strides(), a.strides()}, {0, a.offset()},
                  [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& st) {
                    float* o = po + off[0];
                    const float* x = pa + off[1];
                    if (st[0] == 1 && st[1] == 1) {
#pragma omp simd
                      for (int64_t i = 0; i < n; ++i)
                        o[i] = f(x[i]);
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        o[i * st[0]] = f(x[i * st[1]]);
                    }
                  });
  return out;
}

}  // namespace qnn::cpu
