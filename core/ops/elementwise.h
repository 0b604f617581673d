#pragma once
// Elementwise binary arithmetic with NumPy broadcasting, and in-place forms for optimizers.
#include "core/tensor.h"

namespace qnn {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, float b);
Tensor sub(const Tensor& a, float b);
Tensor mul(const Tensor& a, float b);
Tensor div(const Tensor& a, float b);

// In place (not differentiable; for optimizers and gradient accumulation). `other` broadcasts to
// self's shape.
void add_(const Tensor& self, const Tensor& other, float alpha = 1.0f);  // self += alpha * other
void mul_(const Tensor& self, const Tensor& other);                      // self *= other
void mul_(const Tensor& self, float value);                              // self *= value
void add_(const Tensor& self, float value);                              // self += value

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, float b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, float b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, float b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, float b) { return div(a, b); }
inline Tensor operator*(float a, const Tensor& b) { return mul(b, a); }
inline Tensor operator-(const Tensor& a) { return mul(a, -1.0f); }

}  // namespace qnn
