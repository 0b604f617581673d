#pragma once
// qnn::nn::Module: the base of every layer and model, as torch.nn.Module. A module owns named
// parameters (trainable tensors), buffers (state that is saved but not trained, e.g. BatchNorm's
// running statistics) and children (sub-modules, held by shared_ptr). Names compose with dots in
// registration order, so a model's state_dict keys are the ones PyTorch gives the same model
// (`layer1.0.conv1.weight`), and checkpoints move between the two unchanged.
//
// Layers keep their tensors as members too (`Linear::weight`): a Tensor is a handle, so the
// member and the registered entry are the same tensor. Everything that changes a module's
// tensors (load_state_dict, to) writes into the existing tensors in place, never swaps handles,
// so members, registered entries and an optimizer's references stay one tensor.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/tensor.h"

namespace qnn::nn {

// Ordered name -> tensor list: a module's parameters and buffers in registration order (own
// parameters, own buffers, then each child's, recursively), exactly the order of PyTorch's
// state_dict and of the tensors in a safetensors file written from it.
using StateDict = std::vector<std::pair<std::string, Tensor>>;

// What a non-strict load_state_dict did not match (strict mode throws instead).
struct LoadResult {
  std::vector<std::string> missing_keys;     // the module's keys that the state did not provide
  std::vector<std::string> unexpected_keys;  // keys in the state the module does not have
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  // type_name is what repr() prints ("Linear", "BatchNorm2d", ...).
  explicit Module(std::string type_name = "Module") : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The computation. The base throws: modules that are only containers need not define it.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  const std::string& type_name() const { return type_name_; }

  // ---- registration (names: non-empty, no '.', unique among this module's entries) ----
  // The tensor is kept as given (same handle); requires_grad is set on it. An undefined tensor is
  // not registered (as PyTorch's register_parameter(name, None) leaves nothing in state_dict).
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  // persistent = false keeps the buffer out of state_dict (as PyTorch).
  Tensor register_buffer(const std::string& name, Tensor tensor, bool persistent = true);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

  // ---- access (recurse = false: this module's own entries only) ----
  // Parameters reached twice through a shared child are listed once (as PyTorch).
  StateDict named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  StateDict named_buffers(bool recurse = true) const;  // persistent or not
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  std::vector<std::shared_ptr<Module>> children() const;
  // This module (name "") and every descendant, depth first in registration order.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules();
  // Calls fn on every descendant, then on this module (the order of torch's Module.apply). Works
  // inside a constructor, unlike named_modules.
  void apply(const std::function<void(Module&)>& fn);
  // The descendant at a dotted path ("layer1.0.conv1"); throws naming the missing part.
  std::shared_ptr<Module> submodule(const std::string& path) const;
  // This module's own parameter or buffer by name; throws when absent.
  Tensor parameter(const std::string& name) const;
  Tensor buffer(const std::string& name) const;

  // ---- mode ----
  // Sets training mode here and in every descendant; returns *this for chaining.
  virtual Module& train(bool on = true);
  Module& eval() { return train(false); }
  bool is_training() const { return training_; }

  // Moves parameters, buffers and their gradients to `device` in place (handles stay valid).
  // CUDA needs a build with the CUDA backend and a GPU; otherwise it throws qnn::Error.
  Module& to(Device device);

  // ---- state ----
  // Detached handles sharing storage with the module's tensors (as PyTorch's state_dict):
  // clone them to keep a snapshot.
  StateDict state_dict() const;
  // Copies every matching entry into the module's existing tensors (no autograd, dtype
  // converted). Shapes must match: a mismatch always throws. strict: also throws when a key is
  // missing or unexpected. The error lists every missing, unexpected and mis-shaped name.
  // Keys a module declares ignorable (ignored_state_keys) are skipped silently.
  LoadResult load_state_dict(const StateDict& state, bool strict = true);

  // Drops every parameter's gradient (as PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();
  // Number of scalar parameters (those with requires_grad when trainable_only).
  int64_t num_parameters(bool trainable_only = true) const;

  // PyTorch-style tree: "Linear(in_features=64, out_features=10, bias=True)", children indented.
  std::string repr() const;
  virtual std::string extra_repr() const { return ""; }

 protected:
  // Local names of state entries this module accepts and drops in load_state_dict, for keys
  // PyTorch writes that qnn does not keep (BatchNorm's num_batches_tracked).
  virtual std::vector<std::string> ignored_state_keys() const { return {}; }

 private:
  struct Entry {
    std::string name;
    Tensor tensor;
    bool persistent = true;
  };
  StateDict named_entries(std::vector<Entry> Module::*kind, bool recurse) const;
  void check_new_name(const std::string& name, const char* what) const;
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void collect_state(const std::string& prefix, StateDict& out) const;
  void collect_ignored(const std::string& prefix, std::vector<std::string>& out) const;
  void append_repr(std::string& out, int indent) const;

  std::string type_name_;
  bool training_ = true;
  std::vector<Entry> parameters_;
  std::vector<Entry> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

using ModulePtr = std::shared_ptr<Module>;

}  // namespace qnn::nn
