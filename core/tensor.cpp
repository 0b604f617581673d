#include "core/tensor.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/autograd.h"
#include "core/cpu/strided_loop.h"
#include "core/creation.h"
#include "core/cuda/cuda_runtime.h"
#include "core/dispatch.h"
#include "core/ops/reduce.h"
#include "core/parallel.h"

namespace qnn {

// ---- construction and accessors -------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  // Every op allocates its output here: this makes QNN_NUM_THREADS apply even to programs that
  // never reference parallel.cpp (its load-time initializer is then not linked in).
  init_threads();
  for (int64_t s : shape)
    QNN_CHECK(s >= 0, "empty", "got shape " << shape_str(shape) << " (expected sizes >= 0)");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(numel_of(shape) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

const TensorImpl& Tensor::checked() const {
  QNN_CHECK(impl_, "tensor", "got an undefined tensor (expected one with storage)");
  return *impl_;
}

const Shape& Tensor::shape() const { return checked().shape; }
const Shape& Tensor::strides() const { return checked().strides; }
int64_t Tensor::offset() const { return checked().offset; }
int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }
int64_t Tensor::numel() const { return numel_of(shape()); }
DType Tensor::dtype() const { return checked().dtype; }
Device Tensor::device() const { return checked().storage->device(); }
const std::shared_ptr<Storage>& Tensor::storage() const { return checked().storage; }

bool Tensor::is_contiguous() const {
  const auto& impl = checked();
  if (numel() == 0)
    return true;  // no element to be out of place (as PyTorch: an empty tensor is contiguous)
  int64_t expected = 1;
  for (size_t i = impl.shape.size(); i-- > 0;) {
    if (impl.shape[i] == 1)
      continue;
    if (impl.strides[i] != expected)
      return false;
    expected *= impl.shape[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  const auto& impl = checked();
  return static_cast<char*>(impl.storage->data()) + impl.offset * dtype_size(impl.dtype);
}

void Tensor::check_dtype(DType expected, const char* op) const {
  QNN_CHECK(dtype() == expected, op, "got dtype " << dtype() << " (expected " << expected << ")");
}

float Tensor::item() const {
  QNN_CHECK(numel() == 1, "item", "got a tensor of shape " << shape_str(shape()) << " (expected one element)");
  return to(DType::Float32).to_vector<float>()[0];
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  check_dtype(dtype_of<T>(), "to_vector");
  Tensor c = to(Device::cpu()).contiguous();
  const T* p = c.data<T>();
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

// ---- copies ---------------------------------------------------------------------------------

void copy_(const Tensor& dst, const Tensor& src) {
  QNN_CHECK(dst.shape() == src.shape(), "copy_",
            "got destination " << shape_str(dst.shape()) << " and source " << shape_str(src.shape())
                               << " (expected equal shapes)");
  if (dst.device() != src.device() || !dst.device().is_cpu()) {
    QNN_CHECK(dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous(), "copy_",
              "got a " << src.device() << " -> " << dst.device()
                       << " copy of non-contiguous or differently typed tensors (expected contiguous, same dtype)");
    const char* kind = src.device().is_cpu() ? "h2d" : dst.device().is_cpu() ? "d2h" : "d2d";
    cuda_copy(dst.raw_data(), src.raw_data(), src.numel() * dtype_size(src.dtype()), kind);
    return;
  }
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    std::memcpy(dst.raw_data(), src.raw_data(), src.numel() * dtype_size(src.dtype()));
    return;
  }
  dispatch_dtype(dst.dtype(), [&]<class D>() {
    dispatch_dtype(src.dtype(), [&]<class S>() {
      D* d = static_cast<D*>(dst.storage()->data());
      const S* s = static_cast<const S*>(src.storage()->data());
      cpu::strided_loop<2>(dst.shape(), {dst.strides(), src.strides()}, {dst.offset(), src.offset()},
                           [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& st) {
                             for (int64_t i = 0; i < n; ++i)
                               d[off[0] + i * st[0]] = static_cast<D>(s[off[1] + i * st[1]]);
                           });
    });
  });
}

Tensor Tensor::contiguous() const {
  if (is_contiguous())
    return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = Tensor::empty(shape(), dtype(), device());
  copy_(out, *this);
  record("clone", out, {*this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype())
    return *this;
  // A dtype change ends the graph: only float32 carries gradients.
  Tensor out = Tensor::empty(shape(), target, device());
  copy_(out, *this);
  return out;
}

Tensor Tensor::to(Device target) const {
  if (target == device())
    return *this;
  Tensor src = contiguous();
  Tensor out = Tensor::empty(shape(), dtype(), target);
  copy_(out, src);
  const Device from = device();
  record("to_device", out, {*this}, [from](const Tensor& g) { return std::vector<Tensor>{g.to(from)}; });
  return out;
}

// ---- views ----------------------------------------------------------------------------------

namespace {

// Resolves one -1 in a requested shape against the element count.
Shape infer_shape(Shape shape, int64_t numel, const char* op) {
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      QNN_CHECK(infer_at < 0, op, "got shape " << shape_str(shape) << " (expected at most one -1)");
      infer_at = static_cast<int64_t>(i);
    } else {
      QNN_CHECK(shape[i] >= 0, op, "got shape " << shape_str(shape) << " (expected sizes >= 0 or -1)");
      known *= shape[i];
    }
  }
  if (infer_at >= 0) {
    QNN_CHECK(known > 0 && numel % known == 0, op,
              "cannot infer -1 in " << shape_str(shape) << " for " << numel << " elements");
    shape[infer_at] = numel / known;
  }
  QNN_CHECK(numel_of(shape) == numel, op,
            "got shape " << shape_str(shape) << " (" << numel_of(shape) << " elements) for a tensor of " << numel
                         << " elements (expected the same count)");
  return shape;
}

// Strides for viewing a tensor with `old` shape/strides as `target` without copying, if possible
// (the same rule as PyTorch's computeStride: each group of merged/split dims must be contiguous).
bool view_strides(const Shape& old_shape, const Shape& old_strides, const Shape& target, Shape& out) {
  out.assign(target.size(), 0);
  if (numel_of(old_shape) == 0 || old_shape.empty()) {
    out = contiguous_strides(target);
    return true;
  }
  int64_t view_d = static_cast<int64_t>(target.size()) - 1;
  int64_t chunk_base_stride = old_strides.empty() ? 1 : old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    if (d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || target[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= target[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel)
        return false;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

std::vector<Tensor> one(Tensor g) { return {std::move(g)}; }

}  // namespace

Tensor Tensor::view(const Shape& requested) const {
  const Shape target = infer_shape(requested, numel(), "view");
  Shape strides;
  QNN_CHECK(view_strides(shape(), this->strides(), target, strides), "view",
            "cannot view a tensor of shape " << shape_str(shape()) << " and strides " << shape_str(this->strides())
                                             << " as " << shape_str(target)
                                             << " without a copy (expected compatible strides; use reshape)");
  Tensor out = make_view(*this, target, strides, offset());
  const Shape in_shape = shape();
  record("view", out, {*this}, [in_shape](const Tensor& g) { return one(g.reshape(in_shape)); });
  return out;
}

Tensor Tensor::reshape(const Shape& requested) const {
  const Shape target = infer_shape(requested, numel(), "reshape");
  Shape strides;
  if (view_strides(shape(), this->strides(), target, strides))
    return view(target);
  return clone().view(target);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0)
    return reshape({1});
  start_dim = wrap_dim(start_dim, dim(), "flatten");
  end_dim = wrap_dim(end_dim, dim(), "flatten");
  QNN_CHECK(start_dim <= end_dim, "flatten", "got start_dim " << start_dim << " > end_dim " << end_dim);
  Shape target(shape().begin(), shape().begin() + start_dim);
  int64_t merged = 1;
  for (int64_t d = start_dim; d <= end_dim; ++d)
    merged *= shape()[d];
  target.push_back(merged);
  target.insert(target.end(), shape().begin() + end_dim + 1, shape().end());
  return reshape(target);
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  std::vector<int64_t> dims(dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[wrap_dim(d0, dim(), "transpose")], dims[wrap_dim(d1, dim(), "transpose")]);
  return permute(dims);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  QNN_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute",
            "got " << dims.size() << " dims for a " << dim() << "-d tensor (expected one per dimension)");
  Shape new_shape(dim()), new_strides(dim());
  std::vector<int64_t> inverse(dim(), -1);
  for (int64_t i = 0; i < dim(); ++i) {
    const int64_t d = wrap_dim(dims[i], dim(), "permute");
    QNN_CHECK(inverse[d] < 0, "permute", "got dimension " << d << " twice (expected a permutation)");
    inverse[d] = i;
    new_shape[i] = shape()[d];
    new_strides[i] = strides()[d];
  }
  Tensor out = make_view(*this, new_shape, new_strides, offset());
  record("permute", out, {*this}, [inverse](const Tensor& g) { return one(g.permute(inverse)); });
  return out;
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  d = wrap_dim(d, dim(), "slice");
  QNN_CHECK(step > 0, "slice", "got step " << step << " (expected > 0)");
  const int64_t n = shape()[d];
  if (start < 0)
    start += n;
  if (end < 0)
    end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape new_shape = shape(), new_strides = strides();
  new_shape[d] = (end - start + step - 1) / step;
  new_strides[d] *= step;
  Tensor out = make_view(*this, new_shape, new_strides, offset() + start * strides()[d]);
  const Shape in_shape = shape();
  record("slice", out, {*this}, [in_shape, d, start, end, step](const Tensor& g) {
    Tensor full = zeros(in_shape, g.dtype(), g.device());
    copy_(full.slice(d, start, end, step), g);
    return one(full);
  });
  return out;
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  d = wrap_dim(d, dim(), "narrow");
  QNN_CHECK(start >= 0 && length >= 0 && start + length <= shape()[d], "narrow",
            "got start " << start << " and length " << length << " on a dimension of size " << shape()[d]
                         << " (expected 0 <= start, start + length <= size)");
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = wrap_dim(d, dim(), "select");
  const int64_t n = shape()[d];
  QNN_CHECK(index >= -n && index < n, "select",
            "got index " << index << " for a dimension of size " << n << " (expected in [" << -n << ", " << n << "))");
  if (index < 0)
    index += n;
  return narrow(d, index, 1).squeeze(d);
}

Tensor Tensor::expand(const Shape& target) const {
  QNN_CHECK(target.size() >= shape().size(), "expand",
            "got target " << shape_str(target) << " with fewer dimensions than " << shape_str(shape()));
  const size_t lead = target.size() - shape().size();
  Shape new_strides(target.size(), 0), new_shape = target;
  for (size_t i = 0; i < target.size(); ++i) {
    if (i < lead) {
      QNN_CHECK(target[i] >= 0, "expand", "got target " << shape_str(target) << " (expected sizes >= 0)");
      continue;
    }
    const int64_t s = shape()[i - lead];
    if (target[i] == -1 || target[i] == s) {
      new_shape[i] = s;
      new_strides[i] = strides()[i - lead];
    } else {
      QNN_CHECK(s == 1, "expand",
                "cannot expand " << shape_str(shape()) << " to " << shape_str(target)
                                 << " (expected size 1 where the sizes differ)");
    }
  }
  Tensor out = make_view(*this, new_shape, new_strides, offset());
  const Shape in_shape = shape();
  record("expand", out, {*this}, [in_shape](const Tensor& g) { return one(sum_to(g, in_shape)); });
  return out;
}

Tensor Tensor::squeeze() const {
  Shape target;
  for (int64_t s : shape())
    if (s != 1)
      target.push_back(s);
  return reshape(target);
}

Tensor Tensor::squeeze(int64_t d) const {
  d = wrap_dim(d, dim(), "squeeze");
  if (shape()[d] != 1)
    return *this;
  Shape target = shape();
  target.erase(target.begin() + d);
  return view(target);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape target = shape();
  target.insert(target.begin() + d, 1);
  return view(target);
}

// ---- autograd fields ------------------------------------------------------------------------

bool Tensor::requires_grad() const { return checked().requires_grad; }

Tensor& Tensor::set_requires_grad(bool enabled) {
  QNN_CHECK(!enabled || dtype() == DType::Float32, "requires_grad",
            "got dtype " << dtype() << " (expected float32: only floating tensors have gradients)");
  QNN_CHECK(enabled || !grad_fn(), "requires_grad",
            "cannot turn requires_grad off on a non-leaf tensor (expected a leaf; use detach())");
  impl_->requires_grad = enabled;
  return *this;
}

bool Tensor::is_leaf() const { return !checked().grad_fn; }
Tensor Tensor::grad() const { return checked().grad; }
void Tensor::set_grad(const Tensor& grad) const {
  checked();
  impl_->grad = grad;
}
void Tensor::zero_grad() const {
  checked();
  impl_->grad = Tensor();
}
const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked().grad_fn; }
void Tensor::set_grad_fn(std::shared_ptr<Node> node) const {
  checked();
  impl_->grad_fn = std::move(node);
}

Tensor Tensor::detach() const { return make_view(*this, shape(), strides(), offset()); }

void Tensor::backward(const Tensor& grad) const { run_backward(*this, grad); }

}  // namespace qnn
