#include "nn/sequential.h"

namespace qnn::nn {

Sequential::Sequential(std::initializer_list<ModulePtr> modules) : Module("Sequential") {
  for (const ModulePtr& m : modules)
    push_back(m);
}

ModulePtr Sequential::operator[](size_t i) const {
  QNN_CHECK(i < size_, "Sequential", "got index " << i << " (expected < " << size_ << ")");
  return submodule(std::to_string(i));
}

Tensor Sequential::forward(const Tensor& x) {
  // An empty Sequential returns its input, as PyTorch's.
  Tensor y = x;
  for (const ModulePtr& m : children())
    y = m->forward(y);
  return y;
}

}  // namespace qnn::nn
