#pragma once
// Elementwise unary math, each differentiable, and in-place forms (not recorded) for optimizers.
#include "core/tensor.h"

namespace qnn {

Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);  // gradient 0
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);  // the exact (erf) form: x * Phi(x)
Tensor pow(const Tensor& x, float exponent);
Tensor clamp(const Tensor& x, float low, float high);  // gradient passes where low <= x <= high

// In place, not recorded by autograd (use under NoGradGuard or on tensors without grad).
void relu_(const Tensor& x);
void clamp_(const Tensor& x, float low, float high);
void sqrt_(const Tensor& x);
void addcmul_(const Tensor& self, const Tensor& a, const Tensor& b, float value = 1.0f);  // self += value*a*b
void addcdiv_(const Tensor& self, const Tensor& a, const Tensor& b, float value = 1.0f);  // self += value*a/b

}  // namespace qnn
