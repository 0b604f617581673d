#pragma once
// nn::Sequential: children named "0", "1", ... (as torch.nn.Sequential), applied in order.
#include <initializer_list>
#include <memory>

#include "nn/module.h"

namespace qnn::nn {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<ModulePtr> modules);

  // Appends a module under the next index; returns it for chaining and keeping a typed handle.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    register_module(std::to_string(size_), module);
    ++size_;
    return module;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The i-th module; throws when out of range. at<M>(i) also checks the type.
  ModulePtr operator[](size_t i) const;
  template <class M>
  std::shared_ptr<M> at(size_t i) const {
    auto typed = std::dynamic_pointer_cast<M>((*this)[i]);
    QNN_CHECK(typed != nullptr, "Sequential::at",
              "got module " << i << " of type " << (*this)[i]->type_name() << " (expected the requested type)");
    return typed;
  }

  Tensor forward(const Tensor& x) override;

 private:
  size_t size_ = 0;
};

}  // namespace qnn::nn
