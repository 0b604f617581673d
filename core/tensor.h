#pragma once
// qnn::Tensor: a cheap handle (shared ownership) to a TensorImpl, which holds reference-counted
// Storage plus shape, strides, offset, dtype and the autograd fields. Copying a Tensor copies the
// handle, never the data; views (reshape, transpose, narrow, expand, ...) share the storage.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/storage.h"

namespace qnn {

struct TensorImpl;
struct Node;

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (no storage); defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Allocates uninitialized contiguous storage.
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::cpu());

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  const Shape& strides() const;
  int64_t offset() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const;
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  // Pointer to element 0 of this view. Checks the element type.
  template <class T>
  T* data() const {
    check_dtype(dtype_of<T>(), "data");
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;

  float item() const;  // the one value of a 1-element float tensor
  template <class T>
  std::vector<T> to_vector() const;  // all values in row-major order (CPU)

  // ---- views: share storage; differentiable ----
  Tensor view(const Shape& shape) const;     // requires compatible strides; -1 infers one size
  Tensor reshape(const Shape& shape) const;  // a view when possible, else a copy
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;  // narrow to one element and drop the dim
  Tensor expand(const Shape& shape) const;          // sizes of 1 (or new leading dims) broadcast
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor contiguous() const;  // this tensor when already contiguous, else a copy
  Tensor clone() const;       // always a copy (differentiable)
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& set_requires_grad(bool enabled = true);
  bool is_leaf() const;
  Tensor grad() const;  // accumulated gradient (undefined until a backward reaches this tensor)
  void set_grad(const Tensor& grad) const;
  void zero_grad() const;  // drops the gradient, as PyTorch's set_to_none
  Tensor detach() const;   // same storage, no history
  // Backpropagates from this tensor. A non-scalar needs `grad` of the same shape.
  void backward(const Tensor& grad = Tensor()) const;
  const std::shared_ptr<Node>& grad_fn() const;
  void set_grad_fn(std::shared_ptr<Node> node) const;

  void check_dtype(DType expected, const char* op) const;

 private:
  std::shared_ptr<TensorImpl> impl_;
  const TensorImpl& checked() const;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::Float32;
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;  // set on outputs of differentiable ops; null for leaves
};

// A new tensor sharing `base`'s storage with the given geometry (no autograd).
Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset);

// Copies src into dst element by element (shapes must match; dtype is converted). Not recorded.
void copy_(const Tensor& dst, const Tensor& src);

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace qnn
