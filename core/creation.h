#pragma once
// Tensor factories. Random ones draw from a Generator (default: the global, seeded one).
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"

namespace qnn {

Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());
Tensor full(const Shape& shape, float value, DType dtype = DType::Float32, Device device = Device::cpu());
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor scalar_tensor(float value, DType dtype = DType::Float32, Device device = Device::cpu());
// [start, end) with `step`, like torch.arange.
Tensor arange(double start, double end, double step = 1.0, DType dtype = DType::Float32);
Tensor arange(int64_t end, DType dtype = DType::Int64);

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape);
Tensor from_vector(const std::vector<float>& values);  // 1-d

Tensor rand(const Shape& shape, Generator& gen = default_generator());                                // U[0, 1)
Tensor randn(const Shape& shape, Generator& gen = default_generator());                               // N(0, 1)
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator& gen = default_generator());  // int64

// Fills (not recorded by autograd).
void fill_(const Tensor& t, float value);
void uniform_(const Tensor& t, float low, float high, Generator& gen = default_generator());
void normal_(const Tensor& t, float mean, float std, Generator& gen = default_generator());

}  // namespace qnn
