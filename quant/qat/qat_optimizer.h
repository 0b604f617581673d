#pragma once
// QAT as an optimizer (PARQ, Jin et al., ICML 2025, Algorithm 1 and Eq. (11)):
// a wrapper around any base optimizer (SGD, AdamW) that owns the latent full-precision weights u
// of the quantized tensors, while the model's parameters hold the weights w the forward pass sees.
// One step is Algorithm 1 / Eq. (11) with the map M_t of the chosen method:
//   u^{t+1} = BaseUpdate(u^t, grad f(w^t))      (the base optimizer, weight decay on u)
//   Q^{t+1} = quantizer(u^{t+1})                every quant_period steps (LSBQ, from the latent u)
//   w^{t+1} = M_t(u^{t+1}; Q^{t+1})             hard (STE), BinaryRelax or PARQ
// The global step counter t counts the warmup steps too (as the PARQ code counts them): before warmup_steps the
// wrapper is plain full-precision training.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nn/module.h"
#include "optim/optimizer.h"
#include "quant/qat/prox_maps.h"
#include "quant/quantized_weights.h"
#include "quant/quantizers/quantizer.h"

namespace qnn::quant {

// A group of parameters with its quantization options; quantizer unset = full precision (the
// parameters are then left entirely to the base optimizer).
struct QATParamGroup {
  std::string name;
  optim::NamedTensors params;
  std::optional<QuantizerSpec> quantizer;
  bool per_channel = false;  // one Q per row of dim 0 (tensors with dim <= 1 stay per tensor)
};

// The default selection of the PARQ authors' code: every Conv2d and Linear weight, the first
// conv and the last Linear included, is quantized with `spec`; norms and biases stay FP.
// `fp_stem_head` keeps the first Conv2d and the last Linear in full precision.
std::vector<QATParamGroup> default_qat_groups(nn::Module& model, const QuantizerSpec& spec, bool per_channel,
                                              bool fp_stem_head = false);

struct QATOptions {
  int64_t warmup_steps = 200;  // plain FP steps before QAT starts (the PARQ code's CIFAR value)
  int64_t quant_period = 10;   // Q re-estimated every this many steps (Algorithm 1 literally: 1)
  ProxMap map;                 // method, anneal start/end (steps), steepness
  // On Q-update steps of the hard map, use the quantizer's own q-hat instead of the nearest point
  // (bit-matching the PARQ code, whose q-hat differs from the projection of Eq. (2)). Off: the paper's projection
  // everywhere.
  bool hard_from_quantizer = false;
};

// An optim::Optimizer: a training loop steps it, an LR schedule sets the base optimizer's rates
// through it, and its state dict holds everything a resumed run needs (the base optimizer's state
// under "base.", the latent weights, Q and t).
class QATOptimizer : public optim::Optimizer {
 public:
  // `base` must hold every parameter of `groups` and outlive this wrapper.
  QATOptimizer(optim::Optimizer& base, std::vector<QATParamGroup> groups, QATOptions options);

  // One step (Algorithm 1 of the PARQ paper), after loss.backward() computed the gradient at w.
  void step() override;
  void zero_grad() override { base_.zero_grad(); }
  size_t num_groups() const override { return base_.num_groups(); }
  double lr(size_t group = 0) const override { return base_.lr(group); }
  void set_lr(size_t group, double lr) override { base_.set_lr(group, lr); }
  using optim::Optimizer::set_lr;
  std::vector<Tensor> params() const override { return base_.params(); }
  std::string kind() const override { return "QAT"; }
  optim::Optimizer& base() { return base_; }
  const QATOptions& options() const { return options_; }
  int64_t t() const { return t_; }
  bool quantizing() const { return t_ > options_.warmup_steps; }  // QAT steps have run

  // One quantized tensor: its parameter (holds w), latent u (undefined before QAT starts) and Q.
  struct Entry {
    std::string name;
    Tensor param;
    Tensor latent;
    QuantizerSpec spec;
    int64_t rows = 1;  // groups (per-channel: size of dim 0)
    std::vector<Alphabet> Q;
  };
  const std::vector<Entry>& entries() const { return entries_; }

  // What the logs report: the annealing value (PARQ inv slope or BinaryRelax theta) of the last
  // step, whether the map is hard, and the fraction of quantized weights exactly on Q.
  struct Report {
    int64_t t = 0;
    std::string phase;  // "warmup", "anneal", "hard"
    double value = 0.0;
    double fraction_on_Q = 0.0;
    int64_t num_quantized = 0;
  };
  Report report() const;

  // The final hard projection w := Q(u) with the current Q of every tensor (the PARQ paper's deployed model: w =
  // proj_Q(u)); returns how many weights it changed. Before QAT has started it first fits Q to the weights.
  int64_t final_projection();
  // Name and alphabets of every quantized tensor, for save_quantized.
  std::vector<QuantizedParam> quantized_params() const;

  // u ("latent.<name>"), Q and t, and the base optimizer's state (tensors "base.<name>", scalars
  // under "base").
  optim::StateDict state_dict() const override;
  void load_state_dict(const optim::StateDict& state) override;

 private:
  void refresh_Q(Entry& e, std::vector<float>* q_hat) const;
  optim::Optimizer& base_;
  QATOptions options_;
  std::vector<Entry> entries_;
  int64_t t_ = 0;
  double cumu_lr_ = 0.0;  // gamma_t = sum of eta (the "shrink" mode is not implemented; logged)
};

}  // namespace qnn::quant
