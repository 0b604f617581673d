#pragma once
// The optimizer base: parameter groups, per-parameter state, zero_grad, learning rates per group,
// and a state dict split the way a checkpoint stores it (tensors in safetensors, scalars in JSON).
//
// Semantics follow torch.optim: step() updates every parameter that has a gradient (the others,
// and their state, are left alone); zero_grad() drops gradients (set_to_none); load_state_dict
// restores buffers, step counts and the hyper-parameters of every group, so a resumed run
// continues bit-identically.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace qnn::optim {

// What a caller passes: the tensors of one group and the hyper-parameters it overrides. Unset
// values take the optimizer's defaults (its Options), as keys missing from a torch param group do.
// Only lr and weight_decay vary per group, the two that recipes vary (no decay on norms and
// biases; layer-wise learning rates); momentum, betas and eps are optimizer-wide.
struct ParamGroup {
  std::vector<Tensor> params;
  std::optional<double> lr;
  std::optional<double> weight_decay;
  std::string name;  // a label for logs and errors ("decay", "no_decay"); kept in the state dict
};

// A named parameter, as a module lists them ("layer1.0.conv1.weight", tensor).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// The split of timm's param_groups_weight_decay: parameters with one dimension or fewer (biases,
// norm scales and shifts), names ending in ".bias" and names in `no_decay_names` go to a group
// "no_decay" with weight_decay 0; the rest to a group "decay" with `weight_decay`. Parameters that
// do not require grad are left out. Groups that would be empty are left out.
std::vector<ParamGroup> weight_decay_groups(const NamedTensors& named, double weight_decay,
                                            const std::vector<std::string>& no_decay_names = {});

// The narrower split of the PARQ authors' code (its weight-decay groups): only names ending in
// ".bias" (conv/linear biases and norm shifts) go to "no_decay"; norm scales keep the decay.
std::vector<ParamGroup> bias_no_decay_groups(const NamedTensors& named, double weight_decay);

// The state of an optimizer as a checkpoint stores it.
//   tensors: "state.<group>.<param>.<buffer>" (e.g. "state.0.3.momentum_buffer"), float32, the
//            live buffers (not copies): save them before the next step().
//   scalars: {"optimizer": "SGD", "options": {...}, "groups": [{"name", "lr", "weight_decay",
//            "num_params"}], "steps": [[3, 3, 0], [3]]} (steps per parameter, per group).
struct StateDict {
  NamedTensors tensors;
  nlohmann::json scalars;
};

// The interface of every optimizer, what a training loop and an LR schedule need: step, zero_grad,
// the learning rate of each group and a state dict. SGD and AdamW implement it through
// ParamGroupOptimizer; a QAT optimizer (quant/qat/qat_optimizer.h) implements it by wrapping one,
// so quantization-aware training is an optimizer like any other (the PARQ paper's framing).
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates every parameter with a gradient, under NoGradGuard.
  virtual void step() = 0;
  // Drops the gradient of every parameter (PyTorch's zero_grad(set_to_none=True)).
  virtual void zero_grad() = 0;
  virtual size_t num_groups() const = 0;
  virtual double lr(size_t group = 0) const = 0;
  virtual void set_lr(size_t group, double lr) = 0;
  void set_lr(double lr);  // every group
  // Every parameter, in group order (e.g. for clip_grad_norm_).
  virtual std::vector<Tensor> params() const = 0;
  // The name of this optimizer's kind, as stored in the state dict ("SGD", "AdamW", "QAT").
  virtual std::string kind() const = 0;
  virtual StateDict state_dict() const = 0;
  // Checks everything first and throws qnn::Error without changing anything when the state does
  // not fit this optimizer.
  virtual void load_state_dict(const StateDict& state) = 0;
};

// An optimizer over parameter groups with per-parameter state (torch.optim's model): the base of
// SGD and AdamW.
class ParamGroupOptimizer : public Optimizer {
 public:
  // A group as the optimizer holds it: every hyper-parameter resolved.
  struct Group {
    std::vector<Tensor> params;
    std::string name;
    double lr = 0.0;
    double weight_decay = 0.0;
  };

  void zero_grad() override;

  const std::vector<Group>& groups() const { return groups_; }
  size_t num_groups() const override { return groups_.size(); }
  std::vector<Tensor> params() const override;
  double lr(size_t group = 0) const override;
  void set_lr(size_t group, double lr) override;
  using Optimizer::set_lr;
  void set_weight_decay(size_t group, double weight_decay);
  // How many updates parameter `param` of group `group` has received.
  int64_t step_count(size_t group, size_t param) const;

  StateDict state_dict() const override;
  // Checks kind, group and parameter counts, buffer names and shapes, values. Buffers are copied,
  // so the optimizer never shares memory with the caller's tensors.
  void load_state_dict(const StateDict& state) override;

 protected:
  // Per-parameter state: the update count and the buffers named by buffer_names(), undefined
  // until the first update that creates them.
  struct ParamState {
    int64_t step = 0;
    std::vector<Tensor> buffers;
  };

  ParamGroupOptimizer(std::vector<ParamGroup> groups, double default_lr, double default_weight_decay, const char* kind);

  virtual std::vector<std::string> buffer_names() const = 0;
  // Whether a step under `options` (as options_json() writes them) creates the buffers: a
  // parameter that has been stepped must then have them in a state dict (SGD without momentum
  // keeps none).
  virtual bool buffers_after_step(const nlohmann::json& options) const {
    (void)options;
    return true;
  }
  virtual nlohmann::json options_json() const = 0;
  // Validates and applies saved options (called by load_state_dict after every other check, so
  // it may throw and must then leave the options unchanged).
  virtual void load_options(const nlohmann::json& options) = 0;

  ParamState& state(size_t group, size_t param) { return state_[group][param]; }

  // A parameter's update context: contiguous float pointers for one pass. When the parameter is
  // not contiguous, p points into a contiguous copy that finish() writes back.
  struct Slot {
    Tensor param, work, grad;
    float* p = nullptr;
    const float* g = nullptr;
    int64_t n = 0;
  };
  static Slot open_slot(const Tensor& param, const char* op);
  static void finish(const Slot& slot);

  std::vector<Group> groups_;

 private:
  std::vector<std::vector<ParamState>> state_;
};

}  // namespace qnn::optim
