#include "nn/module.h"

#include <algorithm>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/autograd.h"
#include "core/cuda/cuda_runtime.h"
#include "core/error.h"

namespace qnn::nn {

Tensor Module::forward(const Tensor&) {
  QNN_CHECK(false, type_name_ + "::forward", "got a call on a module without forward (expected a layer or model)");
  return Tensor();
}

// ---- registration ------------------------------------------------------------------------------

void Module::check_new_name(const std::string& name, const char* what) const {
  const std::string op = type_name_ + "::" + what;
  QNN_CHECK(!name.empty() && name.find('.') == std::string::npos, op,
            "got name '" << name << "' (expected a non-empty name without '.')");
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) {
      if constexpr (requires { e.name; })
        return e.name == name;
      else
        return e.first == name;
    });
  };
  QNN_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), op,
            "got name '" << name << "' twice (expected each parameter, buffer and child name once)");
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name(name, "register_parameter");
  if (!tensor.defined())
    return tensor;
  QNN_CHECK(tensor.is_leaf(), type_name_ + "::register_parameter",
            "got '" << name << "' computed by an op (expected a leaf tensor: detach it first)");
  tensor.set_requires_grad(requires_grad);
  parameters_.push_back({name, tensor, true});
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor, bool persistent) {
  check_new_name(name, "register_buffer");
  if (!tensor.defined())
    return tensor;
  buffers_.push_back({name, tensor, persistent});
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "register_module");
  QNN_CHECK(module != nullptr, type_name_ + "::register_module", "got a null module for '" << name << "'");
  QNN_CHECK(module.get() != this, type_name_ + "::register_module", "got the module itself as child '" << name << "'");
  children_.emplace_back(name, std::move(module));
}

// ---- access ------------------------------------------------------------------------------------

namespace {
std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}
}  // namespace

// Entries of one kind (parameters_ or buffers_), depth first, each tensor listed once.
StateDict Module::named_entries(std::vector<Entry> Module::*kind, bool recurse) const {
  StateDict out;
  std::unordered_set<const TensorImpl*> seen;
  auto visit = [&](auto& self, const Module& m, const std::string& prefix) -> void {
    for (const Entry& e : m.*kind)
      if (seen.insert(e.tensor.impl()).second)
        out.emplace_back(join(prefix, e.name), e.tensor);
    if (recurse)
      for (const auto& [name, child] : m.children_)
        self(self, *child, join(prefix, name));
  };
  visit(visit, *this, "");
  return out;
}

StateDict Module::named_parameters(bool recurse) const { return named_entries(&Module::parameters_, recurse); }

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters(recurse))
    out.push_back(t);
  return out;
}

StateDict Module::named_buffers(bool recurse) const { return named_entries(&Module::buffers_, recurse); }

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_buffers(recurse))
    out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const { return children_; }

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, child] : children_)
    out.push_back(child);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules() {
  std::shared_ptr<Module> self = weak_from_this().lock();
  QNN_CHECK(self != nullptr, type_name_ + "::named_modules",
            "got a module not held by a std::shared_ptr (expected one made with std::make_shared)");
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  std::unordered_set<const Module*> seen;
  auto visit = [&](auto& visit_ref, const std::shared_ptr<Module>& m, const std::string& prefix) -> void {
    if (!seen.insert(m.get()).second)
      return;
    out.emplace_back(prefix, m);
    for (const auto& [name, child] : m->children_)
      visit_ref(visit_ref, child, join(prefix, name));
  };
  visit(visit, self, "");
  return out;
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [name, child] : children_)
    child->apply(fn);
  fn(*this);
}

std::shared_ptr<Module> Module::submodule(const std::string& path) const {
  std::shared_ptr<Module> current;
  const Module* m = this;
  std::string walked;
  std::istringstream parts(path);
  std::string part;
  while (std::getline(parts, part, '.')) {
    auto it = std::find_if(m->children_.begin(), m->children_.end(), [&](const auto& c) { return c.first == part; });
    QNN_CHECK(it != m->children_.end(), type_name_ + "::submodule",
              "got path '" << path << "': '" << join(walked, part) << "' does not exist (expected a child name)");
    current = it->second;
    m = current.get();
    walked = join(walked, part);
  }
  QNN_CHECK(current != nullptr, type_name_ + "::submodule", "got an empty path (expected e.g. 'layer1.0.conv1')");
  return current;
}

Tensor Module::parameter(const std::string& name) const {
  for (const Entry& e : parameters_)
    if (e.name == name)
      return e.tensor;
  QNN_CHECK(false, type_name_ + "::parameter", "got '" << name << "' (expected one of this module's parameters)");
  return Tensor();
}

Tensor Module::buffer(const std::string& name) const {
  for (const Entry& e : buffers_)
    if (e.name == name)
      return e.tensor;
  QNN_CHECK(false, type_name_ + "::buffer", "got '" << name << "' (expected one of this module's buffers)");
  return Tensor();
}

// ---- mode and device ---------------------------------------------------------------------------

Module& Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_)
    child->train(on);
  return *this;
}

namespace {
// Points `t`'s TensorImpl at a copy of its data on `device`: every handle to it sees the move.
void move_in_place(const Tensor& t, Device device) {
  if (!t.defined() || t.device() == device)
    return;
  Tensor moved = t.detach().to(device);
  TensorImpl* impl = t.impl();
  impl->storage = moved.storage();
  impl->shape = moved.shape();
  impl->strides = moved.strides();
  impl->offset = moved.offset();
}
}  // namespace

Module& Module::to(Device device) {
  if (device.is_cuda()) {
    QNN_CHECK(
        cuda_compiled(), type_name_ + "::to",
        "got device " << device << " (expected cpu: this build has no CUDA backend; configure with -DQNN_CUDA=ON)");
    QNN_CHECK(device.index >= 0 && device.index < cuda_device_count(), type_name_ + "::to",
              "got device " << device << " (expected one of the " << cuda_device_count() << " visible GPUs)");
  }
  NoGradGuard no_grad;
  for (auto& [name, t] : named_parameters()) {
    move_in_place(t, device);
    if (t.grad().defined()) {
      Tensor g = t.grad();
      move_in_place(g, device);
    }
  }
  for (auto& [name, t] : named_buffers())
    move_in_place(t, device);
  return *this;
}

// ---- state -------------------------------------------------------------------------------------

void Module::collect_state(const std::string& prefix, StateDict& out) const {
  for (const Entry& e : parameters_)
    out.emplace_back(join(prefix, e.name), e.tensor.detach());
  for (const Entry& e : buffers_)
    if (e.persistent)
      out.emplace_back(join(prefix, e.name), e.tensor.detach());
  for (const auto& [name, child] : children_)
    child->collect_state(join(prefix, name), out);
}

StateDict Module::state_dict() const {
  StateDict out;
  collect_state("", out);
  return out;
}

void Module::collect_ignored(const std::string& prefix, std::vector<std::string>& out) const {
  for (const std::string& key : ignored_state_keys())
    out.push_back(join(prefix, key));
  for (const auto& [name, child] : children_)
    child->collect_ignored(join(prefix, name), out);
}

LoadResult Module::load_state_dict(const StateDict& state, bool strict) {
  const std::string op = type_name_ + "::load_state_dict";
  std::unordered_map<std::string, const Tensor*> given;
  for (const auto& [key, t] : state) {
    QNN_CHECK(given.emplace(key, &t).second, op, "got key '" << key << "' twice (expected unique keys)");
  }
  std::vector<std::string> ignored;
  collect_ignored("", ignored);
  const std::unordered_set<std::string> ignorable(ignored.begin(), ignored.end());

  LoadResult result;
  std::vector<std::string> mis_shaped, mis_typed;
  std::vector<std::pair<Tensor, const Tensor*>> copies;
  std::unordered_set<std::string> own;
  for (const auto& [key, dst] : state_dict()) {
    own.insert(key);
    auto it = given.find(key);
    if (it == given.end()) {
      result.missing_keys.push_back(key);
      continue;
    }
    const Tensor& src = *it->second;
    if (!src.defined() || src.shape() != dst.shape()) {
      mis_shaped.push_back(key + " (checkpoint " + (src.defined() ? shape_str(src.shape()) : "undefined") +
                           ", module " + shape_str(dst.shape()) + ")");
      continue;
    }
    // A value of another dtype is refused, not cast: an int32 tensor read into a float32
    // parameter is a wrong file, not a conversion to make silently.
    if (src.dtype() != dst.dtype()) {
      mis_typed.push_back(key + " (checkpoint " + dtype_name(src.dtype()) + ", module " + dtype_name(dst.dtype()) +
                          ")");
      continue;
    }
    copies.emplace_back(dst, &src);
  }
  for (const auto& [key, t] : state)
    if (!own.count(key) && !ignorable.count(key))
      result.unexpected_keys.push_back(key);

  const bool fail = !mis_shaped.empty() || !mis_typed.empty() ||
                    (strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty()));
  if (fail) {
    std::ostringstream msg;
    msg << "got a state that does not match the module (expected the module's names, shapes and dtypes)";
    auto list = [&](const char* title, const std::vector<std::string>& names) {
      if (names.empty())
        return;
      msg << "\n  " << title << " (" << names.size() << "):";
      for (const std::string& n : names)
        msg << "\n    " << n;
    };
    if (strict) {
      list("missing keys", result.missing_keys);
      list("unexpected keys", result.unexpected_keys);
    }
    list("shape mismatches", mis_shaped);
    list("dtype mismatches", mis_typed);
    QNN_CHECK(false, op, msg.str());
  }
  // Nothing is written unless everything checked out, so a failed load leaves the module as it was.
  NoGradGuard no_grad;
  for (const auto& [dst, src] : copies) {
    Tensor value = *src;
    if (value.device() != dst.device())
      value = value.contiguous().to(dst.device());
    copy_(dst, value);
  }
  return result;
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters())
    t.zero_grad();
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (const auto& [name, t] : named_parameters())
    if (!trainable_only || t.requires_grad())
      n += t.numel();
  return n;
}

// ---- printing ----------------------------------------------------------------------------------

void Module::append_repr(std::string& out, int indent) const {
  out += type_name_ + "(" + extra_repr();
  if (!children_.empty()) {
    out += "\n";
    for (const auto& [name, child] : children_) {
      out += std::string(indent + 2, ' ') + "(" + name + "): ";
      child->append_repr(out, indent + 2);
      out += "\n";
    }
    out += std::string(indent, ' ');
  }
  out += ")";
}

std::string Module::repr() const {
  std::string out;
  append_repr(out, 0);
  return out;
}

}  // namespace qnn::nn
