#include "core/ops/unary.h"

#include <cmath>

#include "core/autograd.h"
#include "core/cpu/binary_loop.h"
#include "core/cpu/gelu_erf.h"
#include "core/creation.h"

namespace qnn {

// Each op: its forward through cpu::unary_op, then its backward as one fused elementwise pass
// over (grad_output, saved) -- the input x or the output y, whichever makes the derivative cheap.

namespace {

// grad_input = f(grad_output, saved), elementwise, with saved of the same shape.
template <class F>
Tensor grad_from(const char* op, const Tensor& g, const Tensor& saved, F f) {
  return cpu::binary_op(op, g, saved, f);
}

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;  // 1 / sqrt(2 pi)

}  // namespace

Tensor neg(const Tensor& x) {
  Tensor y = cpu::unary_op("neg", x, [](float v) { return -v; });
  record("neg", y, {x}, [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
  return y;
}

Tensor exp(const Tensor& x) {
  Tensor y = cpu::unary_op("exp", x, [](float v) { return std::exp(v); });
  // d exp(x) = exp(x) = y
  record("exp", y, {x}, [y = y.detach()](const Tensor& g) {
    return std::vector<Tensor>{grad_from("exp_backward", g, y, [](float gv, float yv) { return gv * yv; })};
  });
  return y;
}

Tensor log(const Tensor& x) {
  Tensor y = cpu::unary_op("log", x, [](float v) { return std::log(v); });
  record("log", y, {x}, [x = x.detach()](const Tensor& g) {
    return std::vector<Tensor>{grad_from("log_backward", g, x, [](float gv, float xv) { return gv / xv; })};
  });
  return y;
}

Tensor sqrt(const Tensor& x) {
  Tensor y = cpu::unary_op("sqrt", x, [](float v) { return std::sqrt(v); });
  // d sqrt(x) = 1 / (2 sqrt(x)) = 0.5 / y
  record("sqrt", y, {x}, [y = y.detach()](const Tensor& g) {
    return std::vector<Tensor>{grad_from("sqrt_backward", g, y, [](float gv, float yv) { return 0.5f * gv / yv; })};
  });
  return y;
}

Tensor rsqrt(const Tensor& x) {
  Tensor y = cpu::unary_op("rsqrt", x, [](float v) { return 1.0f / std::sqrt(v); });
  // d x^(-1/2) = -1/2 x^(-3/2) = -0.5 y^3
  record("rsqrt", y, {x}, [y = y.detach()](const Tensor& g) {
    return std::vector<Tensor>{
        grad_from("rsqrt_backward", g, y, [](float gv, float yv) { return -0.5f * gv * yv * yv * yv; })};
  });
  return y;
}

Tensor abs(const Tensor& x) {
  Tensor y = cpu::unary_op("abs", x, [](float v) { return std::fabs(v); });
  // Subgradient 0 at x = 0, as PyTorch.
  record("abs", y, {x}, [x = x.detach()](const Tensor& g) {
    return std::vector<Tensor>{
        grad_from("abs_backward", g, x, [](float gv, float xv) { return xv > 0.0f ? gv : (xv < 0.0f ? -gv : 0.0f); })};
  });
  return y;
}

Tensor sign(const Tensor& x) {
  Tensor y = cpu::unary_op("sign", x, [](float v) { return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f); });
  record("sign", y, {x}, [](const Tensor& g) { return std::vector<Tensor>{zeros_like(g)}; });
  return y;
}

Tensor tanh(const Tensor& x) {
  Tensor y = cpu::unary_op("tanh", x, [](float v) { return std::tanh(v); });
  record("tanh", y, {x}, [y = y.detach()](const Tensor& g) {
    return std::vector<Tensor>{
        grad_from("tanh_backward", g, y, [](float gv, float yv) { return gv * (1.0f - yv * yv); })};
  });
  return y;
}

Tensor sigmoid(const Tensor& x) {
  // Two branches so exp never overflows: for v < 0, e^v / (1 + e^v).
  Tensor y = cpu::unary_op("sigmoid", x, [](float v) {
    if (v >= 0.0f)
      return 1.0f / (1.0f + std::exp(-v));
    const float e = std::exp(v);
    return e / (1.0f + e);
  });
  record("sigmoid", y, {x}, [y = y.detach()](const Tensor& g) {
    return std::vector<Tensor>{
        grad_from("sigmoid_backward", g, y, [](float gv, float yv) { return gv * yv * (1.0f - yv); })};
  });
  return y;
}

Tensor relu(const Tensor& x) {
  // v <= 0 ? 0 : v keeps NaN (NaN <= 0 is false), as torch.relu does; max(v, 0) would erase it.
  Tensor y = cpu::unary_op("relu", x, [](float v) { return v <= 0.0f ? 0.0f : v; });
  // The gradient passes where y > 0 (0 at x = 0, as PyTorch).
  record("relu", y, {x}, [y = y.detach()](const Tensor& g) {
    return std::vector<Tensor>{
        grad_from("relu_backward", g, y, [](float gv, float yv) { return yv <= 0.0f ? 0.0f : gv; })};
  });
  return y;
}

Tensor gelu(const Tensor& x) {
  // gelu(x) = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2.
  Tensor y = cpu::unary_op("gelu", x, [](float v) { return 0.5f * v * (1.0f + cpu::erf_for_gelu(v * kInvSqrt2)); });
  // d/dx = Phi(x) + x phi(x), phi the standard normal density.
  record("gelu", y, {x}, [x = x.detach()](const Tensor& g) {
    return std::vector<Tensor>{grad_from("gelu_backward", g, x, [](float gv, float xv) {
      const float cdf = 0.5f * (1.0f + cpu::erf_for_gelu(xv * kInvSqrt2));
      const float pdf = kInvSqrt2Pi * cpu::fast_exp(-0.5f * xv * xv);
      return gv * (cdf + xv * pdf);
    })};
  });
  return y;
}

Tensor pow(const Tensor& x, float exponent) {
  Tensor y;
  if (exponent == 2.0f)
    y = cpu::unary_op("pow", x, [](float v) { return v * v; });
  else
    y = cpu::unary_op("pow", x, [exponent](float v) { return std::pow(v, exponent); });
  // d x^p = p x^(p-1); p = 0 has gradient 0 everywhere (PyTorch's convention).
  record("pow", y, {x}, [x = x.detach(), exponent](const Tensor& g) {
    if (exponent == 0.0f)
      return std::vector<Tensor>{zeros_like(g)};
    return std::vector<Tensor>{grad_from("pow_backward", g, x, [exponent](float gv, float xv) {
      return gv * exponent * std::pow(xv, exponent - 1.0f);
    })};
  });
  return y;
}

Tensor clamp(const Tensor& x, float low, float high) {
  QNN_CHECK(!(low > high), "clamp", "got low " << low << " > high " << high << " (expected low <= high)");
  Tensor y = cpu::unary_op("clamp", x, [low, high](float v) { return v < low ? low : (v > high ? high : v); });
  record("clamp", y, {x}, [x = x.detach(), low, high](const Tensor& g) {
    return std::vector<Tensor>{grad_from(
        "clamp_backward", g, x, [low, high](float gv, float xv) { return (xv >= low && xv <= high) ? gv : 0.0f; })};
  });
  return y;
}

// ---- in place: not recorded ----

namespace {

void check_inplace(const char* op, const Tensor& self) {
  QNN_CHECK(self.defined(), op, "got an undefined tensor");
  QNN_CHECK(!(grad_enabled() && self.requires_grad()), op,
            "got a tensor that requires grad while grad mode is on (expected NoGradGuard or a tensor "
            "without grad: in-place ops are not recorded)");
}

// self = f(self, a, b) with a and b broadcast to self's shape.
template <class F>
void ternary_inplace(const char* op, const Tensor& self, const Tensor& a, const Tensor& b, F f) {
  check_inplace(op, self);
  for (const Tensor* t : {&self, &a, &b})
    cpu::check_float_cpu(op, *t);
  for (const Tensor* t : {&a, &b})
    QNN_CHECK(broadcast_shapes(self.shape(), t->shape(), op) == self.shape(), op,
              "cannot broadcast " << shape_str(t->shape()) << " into " << shape_str(self.shape())
                                  << " in place (expected it to broadcast to self's shape)");
  float* ps = static_cast<float*>(self.storage()->data());
  const float* pa = static_cast<const float*>(a.storage()->data());
  const float* pb = static_cast<const float*>(b.storage()->data());
  const Shape& shape = self.shape();
  cpu::strided_loop<3>(shape, {self.strides(), cpu::broadcast_strides(a, shape), cpu::broadcast_strides(b, shape)},
                       {self.offset(), a.offset(), b.offset()},
                       [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& st) {
                         float* s = ps + off[0];
                         const float* x = pa + off[1];
                         const float* y = pb + off[2];
                         if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
#pragma omp simd
                           for (int64_t i = 0; i < n; ++i)
                             s[i] = f(s[i], x[i], y[i]);
                         } else {
                           for (int64_t i = 0; i < n; ++i)
                             s[i * st[0]] = f(s[i * st[0]], x[i * st[1]], y[i * st[2]]);
                         }
                       });
}

}  // namespace

void relu_(const Tensor& x) {
  check_inplace("relu_", x);
  cpu::inplace_op("relu_", x, scalar_tensor(0.0f), [](float v, float zero) { return v <= zero ? zero : v; });
}

void clamp_(const Tensor& x, float low, float high) {
  check_inplace("clamp_", x);
  QNN_CHECK(!(low > high), "clamp_", "got low " << low << " > high " << high << " (expected low <= high)");
  cpu::inplace_op("clamp_", x, scalar_tensor(high),
                  [low](float v, float hi) { return v < low ? low : (v > hi ? hi : v); });
}

void sqrt_(const Tensor& x) {
  check_inplace("sqrt_", x);
  cpu::inplace_op("sqrt_", x, scalar_tensor(0.0f), [](float v, float) { return std::sqrt(v); });
}

void addcmul_(const Tensor& self, const Tensor& a, const Tensor& b, float value) {
  ternary_inplace("addcmul_", self, a, b, [value](float s, float x, float y) { return s + value * x * y; });
}

void addcdiv_(const Tensor& self, const Tensor& a, const Tensor& b, float value) {
  ternary_inplace("addcdiv_", self, a, b, [value](float s, float x, float y) { return s + value * x / y; });
}

}  // namespace qnn
