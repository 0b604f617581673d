#pragma once
// Learning-rate schedules, driven like torch.optim.lr_scheduler: constructing one records each
// group's current lr as its base lr and sets the lr of step 0; every step() (after
// optimizer.step(), once per epoch or once per iteration, as the caller decides) advances the
// count t by one and sets each group's lr to lr_at(t). Every schedule is the closed form of its
// PyTorch counterpart, a pure function of (t, base lr), so state_dict() is just t, the base lrs
// and the options, and a resumed run sets the very same lrs.
//
// The base lrs are the groups' lrs when the scheduler is constructed (not torch's initial_lr kept
// in the optimizer): give an optimizer one scheduler, and when resuming load the scheduler's state,
// which restores them. A scheduler keeps a reference to its optimizer: it must not outlive it.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace qnn::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // The lr of group `group` at step t (pure: changes nothing).
  double lr_at(int64_t t, size_t group = 0) const;
  // t += 1, then sets every group's lr to lr_at(t).
  void step();
  int64_t last_step() const { return last_step_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }

  // The schedule's name and options, e.g. {"name": "step", "step_size": 30, "gamma": 0.1}: what
  // make_scheduler() takes.
  virtual nlohmann::json options_json() const = 0;
  // {"scheduler": options_json(), "last_step": t, "base_lrs": [...]}.
  nlohmann::json state_dict() const;
  // Restores t, the base lrs and the options (checked first: same schedule name, one base lr per
  // group), then sets the optimizer's lrs to those of step t.
  void load_state_dict(const nlohmann::json& state);

 protected:
  explicit LRScheduler(Optimizer& optimizer);
  // The closed form: lr at step t >= 0 for a group whose base lr is base_lr.
  virtual double compute(int64_t t, double base_lr) const = 0;
  // Validates options (name already checked) and applies them; throws leaving them unchanged.
  virtual void load_options(const nlohmann::json& options) = 0;
  // Sets every group's lr to that of last_step_ (derived constructors call it last).
  void apply();

 private:
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t last_step_ = 0;
};

// The base lr at every step ("constant"). Not torch's ConstantLR, which scales by a factor for a
// number of steps.
class ConstantLR : public LRScheduler {
 public:
  explicit ConstantLR(Optimizer& optimizer);
  nlohmann::json options_json() const override;

 protected:
  double compute(int64_t t, double base_lr) const override;
  void load_options(const nlohmann::json& options) override;
};

// base_lr * gamma^floor(t / step_size) ("step"), as torch's StepLR.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
  nlohmann::json options_json() const override;

 protected:
  double compute(int64_t t, double base_lr) const override;
  void load_options(const nlohmann::json& options) override;

 private:
  int64_t step_size_;
  double gamma_;
};

// base_lr * gamma^(number of milestones <= t) ("multistep"), as torch's MultiStepLR. Milestones
// are sorted; a repeated milestone counts as often as it is given, as in PyTorch.
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);
  nlohmann::json options_json() const override;

 protected:
  double compute(int64_t t, double base_lr) const override;
  void load_options(const nlohmann::json& options) override;

 private:
  std::vector<int64_t> milestones_;
  double gamma_;
};

// Linear warmup, then a cosine to min_lr ("cosine"). With W = warmup_steps, T = total_steps,
// s = warmup_start_factor:
//   t <  W:      base_lr * (s + (1 - s) * t / W)                                (torch LinearLR)
//   W <= t <= T: min_lr + (base_lr - min_lr) * (1 + cos(pi * (t - W) / (T - W))) / 2
//                                                   (torch CosineAnnealingLR, T_max = T - W)
//   t >  T:      min_lr (timm's behaviour after the last cycle; torch's cosine would rise again)
// So it is torch's SequentialLR([LinearLR(s, 1, W), CosineAnnealingLR(T - W, min_lr)], [W]), in
// closed form. min_lr is absolute, the same for every group, as torch's eta_min.
class CosineWarmupLR : public LRScheduler {
 public:
  CosineWarmupLR(Optimizer& optimizer, int64_t total_steps, int64_t warmup_steps = 0, double warmup_start_factor = 0.0,
                 double min_lr = 0.0);
  nlohmann::json options_json() const override;

 protected:
  double compute(int64_t t, double base_lr) const override;
  void load_options(const nlohmann::json& options) override;

 private:
  int64_t total_steps_, warmup_steps_;
  double warmup_start_factor_, min_lr_;
};

// A scheduler from its options_json() form, e.g. {"name": "cosine", "total_steps": 100,
// "warmup_steps": 5, "warmup_start_factor": 0.1, "min_lr": 0}. Missing options take the defaults
// above; unknown names or keys throw qnn::Error.
std::unique_ptr<LRScheduler> make_scheduler(Optimizer& optimizer, const nlohmann::json& options);

}  // namespace qnn::optim
