#include "core/ops/compare.h"

#include "core/autograd.h"
#include "core/cpu/binary_loop.h"
#include "core/creation.h"
#include "core/ops/reduce.h"

namespace qnn {

namespace {

// out (uint8, broadcast shape) = pred(a, b) ? 1 : 0.
template <class Pred>
Tensor compare_op(const char* op, const Tensor& a, const Tensor& b, Pred pred) {
  cpu::check_float_cpu(op, a);
  cpu::check_float_cpu(op, b);
  cpu::check_same_device(op, a, b);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = Tensor::empty(shape, DType::UInt8, a.device());
  uint8_t* po = out.data<uint8_t>();
  const float* pa = static_cast<const float*>(a.storage()->data());
  const float* pb = static_cast<const float*>(b.storage()->data());
  cpu::strided_loop<3>(shape, {out.strides(), cpu::broadcast_strides(a, shape), cpu::broadcast_strides(b, shape)},
                       {0, a.offset(), b.offset()},
                       [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& st) {
                         uint8_t* o = po + off[0];
                         const float* x = pa + off[1];
                         const float* y = pb + off[2];
                         for (int64_t i = 0; i < n; ++i)
                           o[i * st[0]] = pred(x[i * st[1]], y[i * st[2]]) ? 1 : 0;
                       });
  return out;
}

}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) {
  return compare_op("eq", a, b, [](float x, float y) { return x == y; });
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return compare_op("ne", a, b, [](float x, float y) { return x != y; });
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return compare_op("lt", a, b, [](float x, float y) { return x < y; });
}
Tensor le(const Tensor& a, const Tensor& b) {
  return compare_op("le", a, b, [](float x, float y) { return x <= y; });
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return compare_op("gt", a, b, [](float x, float y) { return x > y; });
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return compare_op("ge", a, b, [](float x, float y) { return x >= y; });
}
Tensor eq(const Tensor& a, float b) { return eq(a, scalar_tensor(b)); }
Tensor lt(const Tensor& a, float b) { return lt(a, scalar_tensor(b)); }
Tensor gt(const Tensor& a, float b) { return gt(a, scalar_tensor(b)); }

namespace {

// out = cond ? a : b over the broadcast of all three shapes.
Tensor select_kernel(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(shape, DType::Float32, a.device());
  float* po = out.data<float>();
  const uint8_t* pc = static_cast<const uint8_t*>(cond.storage()->data());
  const float* pa = static_cast<const float*>(a.storage()->data());
  const float* pb = static_cast<const float*>(b.storage()->data());
  cpu::strided_loop<4>(shape,
                       {out.strides(), cpu::broadcast_strides(cond, shape), cpu::broadcast_strides(a, shape),
                        cpu::broadcast_strides(b, shape)},
                       {0, cond.offset(), a.offset(), b.offset()},
                       [&](const std::array<int64_t, 4>& off, int64_t n, const std::array<int64_t, 4>& st) {
                         float* o = po + off[0];
                         const uint8_t* c = pc + off[1];
                         const float* x = pa + off[2];
                         const float* y = pb + off[3];
                         for (int64_t i = 0; i < n; ++i)
                           o[i * st[0]] = c[i * st[1]] ? x[i * st[2]] : y[i * st[3]];
                       });
  return out;
}

}  // namespace

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  QNN_CHECK(cond.defined() && cond.dtype() == DType::UInt8, "where",
            "got a condition of dtype " << (cond.defined() ? dtype_name(cond.dtype()) : "undefined")
                                        << " (expected uint8, as returned by the comparisons)");
  cpu::check_float_cpu("where", a);
  cpu::check_float_cpu("where", b);
  cpu::check_same_device("where", a, b);
  cpu::check_same_device("where", cond, a);
  Tensor out = select_kernel(cond, a, b);
  const bool ga = a.requires_grad(), gb = b.requires_grad();
  record("where", out, {a, b}, [cond, sa = a.shape(), sb = b.shape(), ga, gb](const Tensor& g) {
    const Tensor zero = scalar_tensor(0.0f);
    return std::vector<Tensor>{ga ? sum_to(select_kernel(cond, g, zero), sa) : Tensor(),
                               gb ? sum_to(select_kernel(cond, zero, g), sb) : Tensor()};
  });
  return out;
}

namespace {

// maximum (sign = +1) or minimum (sign = -1). The gradient weight of a is 1 where a wins, 1/2 on
// ties, 0 where it loses; b gets 1 minus that (PyTorch splits ties evenly).
Tensor extremum(const char* op, const Tensor& a, const Tensor& b, bool is_max) {
  Tensor out = is_max ? cpu::binary_op(op, a, b, [](float x, float y) { return x > y ? x : y; })
                      : cpu::binary_op(op, a, b, [](float x, float y) { return x < y ? x : y; });
  const bool ga = a.requires_grad(), gb = b.requires_grad();
  record(op, out, {a, b}, [a = a.detach(), b = b.detach(), ga, gb, is_max](const Tensor& g) {
    Tensor weight_a = cpu::binary_op("extremum_backward", a, b, [is_max](float x, float y) {
      if (x == y)
        return 0.5f;
      return (is_max ? x > y : x < y) ? 1.0f : 0.0f;
    });
    Tensor weight_b = cpu::unary_op("extremum_backward", weight_a, [](float w) { return 1.0f - w; });
    const auto times = [](float x, float y) { return x * y; };
    return std::vector<Tensor>{ga ? sum_to(cpu::binary_op("mul", g, weight_a, times), a.shape()) : Tensor(),
                               gb ? sum_to(cpu::binary_op("mul", g, weight_b, times), b.shape()) : Tensor()};
  });
  return out;
}

}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return extremum("maximum", a, b, true); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum("minimum", a, b, false); }

}  // namespace qnn
