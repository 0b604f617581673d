#include "core/ops/elementwise.h"

#include "core/autograd.h"
#include "core/cpu/binary_loop.h"
#include "core/creation.h"
#include "core/ops/reduce.h"

namespace qnn {

// Each op: the forward kernel, then its backward. Gradients of broadcast inputs are summed back
// to the input's shape (sum_to).

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = cpu::binary_op("add", a, b, [](float x, float y) { return x + y; });
  const Shape sa = a.shape(), sb = b.shape();
  record("add", out, {a, b}, [sa, sb](const Tensor& g) { return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)}; });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = cpu::binary_op("sub", a, b, [](float x, float y) { return x - y; });
  const Shape sa = a.shape(), sb = b.shape();
  record("sub", out, {a, b}, [sa, sb](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(mul(g, -1.0f), sb)};
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = cpu::binary_op("mul", a, b, [](float x, float y) { return x * y; });
  const bool ga = a.requires_grad(), gb = b.requires_grad();
  record("mul", out, {a, b}, [a = a.detach(), b = b.detach(), ga, gb](const Tensor& g) {
    return std::vector<Tensor>{ga ? sum_to(mul(g, b), a.shape()) : Tensor(),
                               gb ? sum_to(mul(g, a), b.shape()) : Tensor()};
  });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = cpu::binary_op("div", a, b, [](float x, float y) { return x / y; });
  const bool ga = a.requires_grad(), gb = b.requires_grad();
  // d(a/b)/da = 1/b;  d(a/b)/db = -a/b^2 = -out/b
  record("div", out, {a, b}, [b = b.detach(), out = out.detach(), sa = a.shape(), ga, gb](const Tensor& g) {
    return std::vector<Tensor>{ga ? sum_to(div(g, b), sa) : Tensor(),
                               gb ? sum_to(mul(div(g, b), mul(out, -1.0f)), b.shape()) : Tensor()};
  });
  return out;
}

Tensor add(const Tensor& a, float b) {
  Tensor out = cpu::unary_op("add", a, [b](float x) { return x + b; });
  record("add", out, {a}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

Tensor sub(const Tensor& a, float b) { return add(a, -b); }

Tensor mul(const Tensor& a, float b) {
  Tensor out = cpu::unary_op("mul", a, [b](float x) { return x * b; });
  record("mul", out, {a}, [b](const Tensor& g) { return std::vector<Tensor>{mul(g, b)}; });
  return out;
}

Tensor div(const Tensor& a, float b) { return mul(a, 1.0f / b); }

namespace {
void check_inplace_allowed(const char* op, const Tensor& self) {
  QNN_CHECK(!(grad_enabled() && self.requires_grad()), op,
            "got a tensor that requires grad while grad mode is on (expected NoGradGuard or a tensor "
            "without grad: in-place ops are not recorded)");
}
}  // namespace

void add_(const Tensor& self, const Tensor& other, float alpha) {
  check_inplace_allowed("add_", self);
  if (alpha == 1.0f)
    cpu::inplace_op("add_", self, other, [](float x, float y) { return x + y; });
  else
    cpu::inplace_op("add_", self, other, [alpha](float x, float y) { return x + alpha * y; });
}

void mul_(const Tensor& self, const Tensor& other) {
  check_inplace_allowed("mul_", self);
  cpu::inplace_op("mul_", self, other, [](float x, float y) { return x * y; });
}

void mul_(const Tensor& self, float value) {
  check_inplace_allowed("mul_", self);
  cpu::inplace_op("mul_", self, scalar_tensor(value), [](float x, float y) { return x * y; });
}

void add_(const Tensor& self, float value) {
  check_inplace_allowed("add_", self);
  cpu::inplace_op("add_", self, scalar_tensor(value), [](float x, float y) { return x + y; });
}

}  // namespace qnn
