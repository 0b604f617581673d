#include "core/creation.h"

#include <cmath>
#include <cstring>

#include "core/cpu/strided_loop.h"
#include "core/dispatch.h"

namespace qnn {

Tensor empty(const Shape& shape, DType dtype, Device device) { return Tensor::empty(shape, dtype, device); }

Tensor full(const Shape& shape, float value, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, Device::cpu());
  fill_(t, value);
  return device.is_cpu() ? t : t.to(device);
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0f, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0f, dtype, device); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
Tensor scalar_tensor(float value, DType dtype, Device device) { return full({}, value, dtype, device); }

void fill_(const Tensor& t, float value) {
  QNN_CHECK(t.device().is_cpu(), "fill_", "got a tensor on " << t.device() << " (expected cpu)");
  dispatch_dtype(t.dtype(), [&]<class T>() {
    T* base = static_cast<T*>(t.storage()->data());
    const T v = static_cast<T>(value);
    cpu::strided_loop<1>(t.shape(), {t.strides()}, {t.offset()},
                         [&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& st) {
                           T* p = base + off[0];
                           if (st[0] == 1)
                             for (int64_t i = 0; i < n; ++i)
                               p[i] = v;
                           else
                             for (int64_t i = 0; i < n; ++i)
                               p[i * st[0]] = v;
                         });
  });
}

Tensor arange(double start, double end, double step, DType dtype) {
  QNN_CHECK(step != 0.0, "arange", "got step 0 (expected a non-zero step)");
  const int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((end - start) / step)));
  Tensor t = Tensor::empty({n}, dtype);
  dispatch_dtype(dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i)
      p[i] = static_cast<T>(start + i * step);
  });
  return t;
}

Tensor arange(int64_t end, DType dtype) { return arange(0.0, static_cast<double>(end), 1.0, dtype); }

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
  QNN_CHECK(
      static_cast<int64_t>(values.size()) == numel_of(shape), "from_vector",
      "got " << values.size() << " values for shape " << shape_str(shape) << " (expected " << numel_of(shape) << ")");
  Tensor t = Tensor::empty(shape, dtype_of<T>());
  if (!values.empty())
    std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}
template Tensor from_vector<float>(const std::vector<float>&, const Shape&);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, const Shape&);
template Tensor from_vector<uint8_t>(const std::vector<uint8_t>&, const Shape&);

Tensor from_vector(const std::vector<float>& values) {
  return from_vector<float>(values, {static_cast<int64_t>(values.size())});
}

// Random fills run sequentially over the elements in row-major order, so the values depend on
// the seed only, never on the thread count.
namespace {
template <class Draw>
void fill_random(const Tensor& t, const char* op, Draw draw) {
  QNN_CHECK(t.device().is_cpu() && t.dtype() == DType::Float32 && t.is_contiguous(), op,
            "got a " << t.dtype() << " tensor on " << t.device() << " (expected a contiguous float32 cpu tensor)");
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = draw();
}
}  // namespace

void uniform_(const Tensor& t, float low, float high, Generator& gen) {
  fill_random(t, "uniform_", [&] { return low + (high - low) * gen.uniform(); });
}

void normal_(const Tensor& t, float mean, float std, Generator& gen) {
  fill_random(t, "normal_", [&] { return mean + std * gen.normal(); });
}

Tensor rand(const Shape& shape, Generator& gen) {
  Tensor t = Tensor::empty(shape);
  uniform_(t, 0.0f, 1.0f, gen);
  return t;
}

Tensor randn(const Shape& shape, Generator& gen) {
  Tensor t = Tensor::empty(shape);
  normal_(t, 0.0f, 1.0f, gen);
  return t;
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen) {
  QNN_CHECK(low < high, "randint", "got range [" << low << ", " << high << ") (expected low < high)");
  Tensor t = Tensor::empty(shape, DType::Int64);
  int64_t* p = t.data<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = gen.integer(low, high);
  return t;
}

}  // namespace qnn
