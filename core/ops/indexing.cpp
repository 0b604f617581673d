#include "core/ops/indexing.h"

#include <algorithm>
#include <vector>

#include "core/autograd.h"
#include "core/cpu/binary_loop.h"
#include "core/cpu/indexing_kernels.h"
#include "core/creation.h"

namespace qnn {
namespace {

// Product of the sizes before / after `dim`.
int64_t outer_of(const Shape& shape, int64_t dim) {
  int64_t n = 1;
  for (int64_t d = 0; d < dim; ++d)
    n *= shape[d];
  return n;
}
int64_t inner_of(const Shape& shape, int64_t dim) {
  int64_t n = 1;
  for (size_t d = static_cast<size_t>(dim) + 1; d < shape.size(); ++d)
    n *= shape[d];
  return n;
}

void check_cpu(const char* op, const Tensor& t, const char* name) {
  QNN_CHECK(t.defined(), op, "got an undefined " << name);
  QNN_CHECK(t.device().is_cpu(), op, name << " is on " << t.device() << " (expected cpu; no CUDA kernel yet)");
}

void check_index(const char* op, const Tensor& index) {
  check_cpu(op, index, "index");
  QNN_CHECK(index.dtype() == DType::Int64, op, "got index of dtype " << index.dtype() << " (expected int64)");
}

// Every value of `index` (contiguous int64) must lie in [0, size).
void check_range(const char* op, const int64_t* index, int64_t n, int64_t size, int64_t dim) {
  for (int64_t i = 0; i < n; ++i)
    QNN_CHECK(index[i] >= 0 && index[i] < size, op,
              "index " << index[i] << " is out of range for dimension " << dim << " of size " << size
                       << " (expected 0 <= index < " << size << ")");
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  const char* op = "cat";
  QNN_CHECK(!tensors.empty(), op, "got an empty list of tensors (expected at least one)");
  const Tensor& first = tensors[0];
  check_cpu(op, first, "tensor");
  const int64_t d = wrap_dim(dim, first.dim(), op);
  Shape out_shape = first.shape();
  out_shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    check_cpu(op, t, "tensor");
    QNN_CHECK(t.dtype() == first.dtype(), op,
              "got dtypes " << first.dtype() << " and " << t.dtype() << " (tensor " << i << "; expected one dtype)");
    bool match = t.dim() == first.dim();
    for (int64_t k = 0; match && k < t.dim(); ++k)
      match = k == d || t.size(k) == first.size(k);
    QNN_CHECK(match, op,
              "got shapes " << shape_str(first.shape()) << " and " << shape_str(t.shape()) << " (tensor " << i
                            << "; expected equal sizes except in dimension " << d << ")");
    out_shape[d] += t.size(d);
  }
  Tensor out = Tensor::empty(out_shape, first.dtype());
  const int64_t outer = outer_of(out_shape, d), inner = inner_of(out_shape, d);
  int64_t offset = 0;
  std::vector<int64_t> sizes;
  for (const Tensor& t : tensors) {
    const Tensor tc = t.contiguous();
    cpu::copy_rows(tc.raw_data(), out.raw_data(), outer, t.size(d), out_shape[d], offset, inner, dtype_size(t.dtype()));
    offset += t.size(d);
    sizes.push_back(t.size(d));
  }
  record(op, out, tensors, [d, sizes](const Tensor& g) {
    std::vector<Tensor> grads;
    int64_t start = 0;
    for (int64_t s : sizes) {
      grads.push_back(g.narrow(d, start, s));
      start += s;
    }
    return grads;
  });
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  const char* op = "stack";
  QNN_CHECK(!tensors.empty(), op, "got an empty list of tensors (expected at least one)");
  check_cpu(op, tensors[0], "tensor");
  const int64_t d = wrap_dim(dim, tensors[0].dim() + 1, op);
  std::vector<Tensor> parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    check_cpu(op, tensors[i], "tensor");
    QNN_CHECK(tensors[i].shape() == tensors[0].shape(), op,
              "got shapes " << shape_str(tensors[0].shape()) << " and " << shape_str(tensors[i].shape()) << " (tensor "
                            << i << "; expected equal shapes)");
    parts.push_back(tensors[i].unsqueeze(d));  // a differentiable view: cat's gradient flows back through it
  }
  return cat(parts, d);
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "index_select";
  check_cpu(op, x, "input");
  check_index(op, index);
  QNN_CHECK(index.dim() <= 1, op, "got index of shape " << shape_str(index.shape()) << " (expected 1-d)");
  QNN_CHECK(x.dim() >= 1, op, "got a 0-d input (expected at least 1 dim)");
  const int64_t d = wrap_dim(dim, x.dim(), op);
  const Tensor idx = index.contiguous();
  const int64_t n = idx.numel(), size = x.size(d);
  check_range(op, idx.data<int64_t>(), n, size, d);
  Shape out_shape = x.shape();
  out_shape[d] = n;
  const Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(out_shape, x.dtype());
  const int64_t outer = outer_of(out_shape, d), inner = inner_of(out_shape, d);
  cpu::select_rows(xc.raw_data(), out.raw_data(), outer, size, inner, idx.data<int64_t>(), n, dtype_size(x.dtype()));
  record(op, out, {x}, [x_shape = x.shape(), d, idx, outer, inner](const Tensor& g) {
    Tensor dx = zeros(x_shape);
    const Tensor gc = g.contiguous();
    cpu::index_add_rows(gc.data<float>(), dx.data<float>(), outer, x_shape[d], inner, idx.data<int64_t>(), idx.numel());
    return std::vector<Tensor>{dx};
  });
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "gather";
  cpu::check_float_cpu(op, x);
  check_index(op, index);
  QNN_CHECK(index.dim() == x.dim(), op,
            "got input of shape " << shape_str(x.shape()) << " and index of shape " << shape_str(index.shape())
                                  << " (expected the same number of dims)");
  QNN_CHECK(x.dim() >= 1 && x.dim() <= 16, op, "got a " << x.dim() << "-d input (expected 1 to 16 dims)");
  const int64_t d = wrap_dim(dim, x.dim(), op);
  for (int64_t k = 0; k < x.dim(); ++k)
    QNN_CHECK(k == d || index.size(k) <= x.size(k), op,
              "got index of shape " << shape_str(index.shape()) << " for input of shape " << shape_str(x.shape())
                                    << " (expected index.size(" << k << ") <= " << x.size(k) << ")");
  const Tensor idx = index.contiguous();
  check_range(op, idx.data<int64_t>(), idx.numel(), x.size(d), d);
  Tensor out = Tensor::empty(idx.shape());
  const cpu::GatherGeometry geo{idx.shape().data(), x.strides().data(), x.dim(), d};
  cpu::gather_float(x.data<float>(), idx.data<int64_t>(), out.data<float>(), geo);
  record(op, out, {x}, [x_shape = x.shape(), d, idx](const Tensor& g) {
    Tensor dx = zeros(x_shape);
    const Tensor gc = g.contiguous();
    const cpu::GatherGeometry geo{idx.shape().data(), dx.strides().data(), static_cast<int64_t>(x_shape.size()), d};
    cpu::scatter_add_float(gc.data<float>(), idx.data<int64_t>(), dx.data<float>(), geo);
    return std::vector<Tensor>{dx};
  });
  return out;
}

Tensor one_hot(const Tensor& labels, int64_t num_classes) {
  const char* op = "one_hot";
  check_cpu(op, labels, "labels");
  QNN_CHECK(labels.dtype() == DType::Int64, op, "got labels of dtype " << labels.dtype() << " (expected int64)");
  const Tensor lc = labels.contiguous();
  const int64_t* pl = lc.data<int64_t>();
  const int64_t n = lc.numel();
  if (num_classes == -1) {  // as PyTorch: one more than the largest label
    num_classes = 0;
    for (int64_t i = 0; i < n; ++i)
      num_classes = std::max(num_classes, pl[i] + 1);
  }
  QNN_CHECK(num_classes >= 1, op, "got num_classes " << num_classes << " (expected >= 1, or -1 to infer)");
  for (int64_t i = 0; i < n; ++i)
    QNN_CHECK(pl[i] >= 0 && pl[i] < num_classes, op,
              "label " << pl[i] << " is out of range for " << num_classes << " classes (expected 0 <= label < "
                       << num_classes << ")");
  Shape shape = labels.shape();
  shape.push_back(num_classes);
  Tensor out = zeros(shape);
  float* po = out.data<float>();
  for (int64_t i = 0; i < n; ++i)
    po[i * num_classes + pl[i]] = 1.0f;
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  const char* op = "masked_fill";
  cpu::check_float_cpu(op, x);
  check_cpu(op, mask, "mask");
  QNN_CHECK(mask.dtype() == DType::UInt8, op, "got mask of dtype " << mask.dtype() << " (expected uint8)");
  QNN_CHECK(broadcast_shapes(x.shape(), mask.shape(), op) == x.shape(), op,
            "got mask of shape " << shape_str(mask.shape()) << " for input of shape " << shape_str(x.shape())
                                 << " (expected a mask that broadcasts to the input)");
  // out = mask ? value : x, in one strided pass over (out, x, mask broadcast).
  auto fill = [mask](const Tensor& src, float v) {
    Tensor out = Tensor::empty(src.shape());
    float* po = out.data<float>();
    const float* px = static_cast<const float*>(src.storage()->data());
    const uint8_t* pm = static_cast<const uint8_t*>(mask.storage()->data());
    cpu::strided_loop<3>(src.shape(), {out.strides(), src.strides(), cpu::broadcast_strides(mask, src.shape())},
                         {0, src.offset(), mask.offset()},
                         [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& st) {
                           float* o = po + off[0];
                           const float* a = px + off[1];
                           const uint8_t* m = pm + off[2];
                           if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
#pragma omp simd
                             for (int64_t i = 0; i < n; ++i)
                               o[i] = m[i] ? v : a[i];
                           } else {
                             for (int64_t i = 0; i < n; ++i)
                               o[i * st[0]] = m[i * st[2]] ? v : a[i * st[1]];
                           }
                         });
    return out;
  };
  Tensor out = fill(x, value);
  record(op, out, {x}, [fill](const Tensor& g) { return std::vector<Tensor>{fill(g, 0.0f)}; });
  return out;
}

}  // namespace qnn
