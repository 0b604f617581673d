#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace qnn::optim {

namespace {

using nlohmann::json;

// Options as JSON: only known keys; missing ones take `fallback`.
void check_keys(const json& j, std::initializer_list<const char*> allowed, const char* op) {
  QNN_CHECK(j.is_object(), op, "options " << j.dump() << " (expected an object)");
  for (const auto& item : j.items()) {
    const bool known = item.key() == "name" ||
                       std::any_of(allowed.begin(), allowed.end(), [&](const char* k) { return item.key() == k; });
    QNN_CHECK(known, op, "unknown option '" << item.key() << "' for schedule " << j.value("name", std::string("?")));
  }
}

int64_t int_option(const json& j, const char* key, int64_t fallback, const char* op) {
  if (!j.contains(key))
    return fallback;
  QNN_CHECK(j.at(key).is_number_integer(), op,
            "option '" << key << "' is " << j.at(key).dump() << " (expected an integer)");
  return j.at(key).get<int64_t>();
}

double number_option(const json& j, const char* key, double fallback, const char* op) {
  if (!j.contains(key))
    return fallback;
  QNN_CHECK(j.at(key).is_number(), op, "option '" << key << "' is " << j.at(key).dump() << " (expected a number)");
  return j.at(key).get<double>();
}

void check_gamma(double gamma, const char* op) {
  QNN_CHECK(std::isfinite(gamma) && gamma > 0.0, op, "gamma " << gamma << " (expected a finite value > 0)");
}

void check_step_size(int64_t step_size, const char* op) {
  QNN_CHECK(step_size > 0, op, "step_size " << step_size << " (expected > 0)");
}

std::vector<int64_t> sorted_milestones(std::vector<int64_t> milestones, const char* op) {
  for (int64_t m : milestones)
    QNN_CHECK(m > 0, op, "milestone " << m << " (expected > 0)");
  std::sort(milestones.begin(), milestones.end());
  return milestones;
}

void check_cosine(int64_t total, int64_t warmup, double start_factor, double min_lr, const char* op) {
  QNN_CHECK(warmup >= 0 && total > warmup, op,
            "total_steps " << total << ", warmup_steps " << warmup << " (expected 0 <= warmup_steps < total_steps)");
  QNN_CHECK(std::isfinite(start_factor) && start_factor >= 0.0 && start_factor <= 1.0, op,
            "warmup_start_factor " << start_factor << " (expected 0 <= factor <= 1)");
  QNN_CHECK(std::isfinite(min_lr) && min_lr >= 0.0, op, "min_lr " << min_lr << " (expected a finite value >= 0)");
}

}  // namespace

// ---- LRScheduler ----------------------------------------------------------------------------

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (size_t g = 0; g < optimizer.num_groups(); ++g)
    base_lrs_.push_back(optimizer.lr(g));
}

double LRScheduler::lr_at(int64_t t, size_t group) const {
  QNN_CHECK(t >= 0, "lr_at", "step " << t << " (expected >= 0)");
  QNN_CHECK(group < base_lrs_.size(), "lr_at", "group " << group << " (expected < " << base_lrs_.size() << ")");
  return compute(t, base_lrs_[group]);
}

void LRScheduler::apply() {
  for (size_t g = 0; g < base_lrs_.size(); ++g)
    optimizer_.set_lr(g, compute(last_step_, base_lrs_[g]));
}

void LRScheduler::step() {
  ++last_step_;
  apply();
}

nlohmann::json LRScheduler::state_dict() const {
  return {{"scheduler", options_json()}, {"last_step", last_step_}, {"base_lrs", base_lrs_}};
}

void LRScheduler::load_state_dict(const nlohmann::json& state) {
  const char* op = "LRScheduler.load_state_dict";
  QNN_CHECK(
      state.is_object() && state.contains("scheduler") && state.contains("last_step") && state.contains("base_lrs"), op,
      "state " << state.dump() << " (expected {scheduler, last_step, base_lrs} from state_dict())");
  const json& options = state.at("scheduler");
  const std::string name = options_json().at("name").get<std::string>();
  QNN_CHECK(options.is_object() && options.value("name", std::string()) == name, op,
            "state of schedule " << options.dump() << " (expected name \"" << name << "\")");
  const json& t = state.at("last_step");
  QNN_CHECK(t.is_number_integer() && t.get<int64_t>() >= 0, op,
            "last_step " << t.dump() << " (expected an integer >= 0)");
  const json& lrs = state.at("base_lrs");
  QNN_CHECK(lrs.is_array() && lrs.size() == base_lrs_.size(), op,
            "base_lrs " << lrs.dump() << " (expected " << base_lrs_.size() << " numbers, one per group)");
  std::vector<double> base;
  for (const json& v : lrs) {
    QNN_CHECK(v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() >= 0.0, op,
              "base lr " << v.dump() << " (expected a finite number >= 0)");
    base.push_back(v.get<double>());
  }
  load_options(options);  // validates before it changes anything
  base_lrs_ = std::move(base);
  last_step_ = t.get<int64_t>();
  apply();
}

// ---- constant ---------------------------------------------------------------------------------

ConstantLR::ConstantLR(Optimizer& optimizer) : LRScheduler(optimizer) { apply(); }
double ConstantLR::compute(int64_t, double base_lr) const { return base_lr; }
nlohmann::json ConstantLR::options_json() const { return {{"name", "constant"}}; }
void ConstantLR::load_options(const nlohmann::json& options) { check_keys(options, {}, "ConstantLR"); }

// ---- step -------------------------------------------------------------------------------------

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  check_step_size(step_size, "StepLR");
  check_gamma(gamma, "StepLR");
  apply();
}

double StepLR::compute(int64_t t, double base_lr) const {
  return base_lr * std::pow(gamma_, static_cast<double>(t / step_size_));
}

nlohmann::json StepLR::options_json() const { return {{"name", "step"}, {"step_size", step_size_}, {"gamma", gamma_}}; }

void StepLR::load_options(const nlohmann::json& options) {
  check_keys(options, {"step_size", "gamma"}, "StepLR");
  const int64_t step_size = int_option(options, "step_size", step_size_, "StepLR");
  const double gamma = number_option(options, "gamma", gamma_, "StepLR");
  check_step_size(step_size, "StepLR");
  check_gamma(gamma, "StepLR");
  step_size_ = step_size;
  gamma_ = gamma;
}

// ---- multi-step -------------------------------------------------------------------------------

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(optimizer), milestones_(sorted_milestones(std::move(milestones), "MultiStepLR")), gamma_(gamma) {
  check_gamma(gamma, "MultiStepLR");
  apply();
}

double MultiStepLR::compute(int64_t t, double base_lr) const {
  // bisect_right, as torch's closed form: a milestone m counts from step m on.
  const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), t) - milestones_.begin();
  return base_lr * std::pow(gamma_, static_cast<double>(passed));
}

nlohmann::json MultiStepLR::options_json() const {
  return {{"name", "multistep"}, {"milestones", milestones_}, {"gamma", gamma_}};
}

void MultiStepLR::load_options(const nlohmann::json& options) {
  check_keys(options, {"milestones", "gamma"}, "MultiStepLR");
  std::vector<int64_t> milestones = milestones_;
  if (options.contains("milestones")) {
    const json& m = options.at("milestones");
    QNN_CHECK(m.is_array() && std::all_of(m.begin(), m.end(), [](const json& v) { return v.is_number_integer(); }),
              "MultiStepLR", "milestones " << m.dump() << " (expected a list of integers)");
    milestones = sorted_milestones(m.get<std::vector<int64_t>>(), "MultiStepLR");
  }
  const double gamma = number_option(options, "gamma", gamma_, "MultiStepLR");
  check_gamma(gamma, "MultiStepLR");
  milestones_ = std::move(milestones);
  gamma_ = gamma;
}

// ---- cosine with linear warmup ----------------------------------------------------------------

CosineWarmupLR::CosineWarmupLR(Optimizer& optimizer, int64_t total_steps, int64_t warmup_steps,
                               double warmup_start_factor, double min_lr)
    : LRScheduler(optimizer),
      total_steps_(total_steps),
      warmup_steps_(warmup_steps),
      warmup_start_factor_(warmup_start_factor),
      min_lr_(min_lr) {
  check_cosine(total_steps, warmup_steps, warmup_start_factor, min_lr, "CosineWarmupLR");
  apply();
}

double CosineWarmupLR::compute(int64_t t, double base_lr) const {
  if (t < warmup_steps_) {
    const double s = warmup_start_factor_;
    return base_lr * (s + (1.0 - s) * static_cast<double>(t) / static_cast<double>(warmup_steps_));
  }
  if (t > total_steps_)
    return min_lr_;
  const double progress = static_cast<double>(t - warmup_steps_) / static_cast<double>(total_steps_ - warmup_steps_);
  return min_lr_ + (base_lr - min_lr_) * (1.0 + std::cos(std::numbers::pi * progress)) / 2.0;
}

nlohmann::json CosineWarmupLR::options_json() const {
  return {{"name", "cosine"},
          {"total_steps", total_steps_},
          {"warmup_steps", warmup_steps_},
          {"warmup_start_factor", warmup_start_factor_},
          {"min_lr", min_lr_}};
}

void CosineWarmupLR::load_options(const nlohmann::json& options) {
  const char* op = "CosineWarmupLR";
  check_keys(options, {"total_steps", "warmup_steps", "warmup_start_factor", "min_lr"}, op);
  const int64_t total = int_option(options, "total_steps", total_steps_, op);
  const int64_t warmup = int_option(options, "warmup_steps", warmup_steps_, op);
  const double start = number_option(options, "warmup_start_factor", warmup_start_factor_, op);
  const double min_lr = number_option(options, "min_lr", min_lr_, op);
  check_cosine(total, warmup, start, min_lr, op);
  total_steps_ = total;
  warmup_steps_ = warmup;
  warmup_start_factor_ = start;
  min_lr_ = min_lr;
}

// ---- factory ----------------------------------------------------------------------------------

std::unique_ptr<LRScheduler> make_scheduler(Optimizer& optimizer, const nlohmann::json& options) {
  const char* op = "make_scheduler";
  QNN_CHECK(options.is_object() && options.contains("name") && options.at("name").is_string(), op,
            "options " << options.dump() << " (expected an object with a \"name\")");
  const std::string name = options.at("name").get<std::string>();
  if (name == "constant") {
    check_keys(options, {}, op);
    return std::make_unique<ConstantLR>(optimizer);
  }
  if (name == "step") {
    check_keys(options, {"step_size", "gamma"}, op);
    QNN_CHECK(options.contains("step_size"), op, "schedule 'step' without step_size (expected one)");
    return std::make_unique<StepLR>(optimizer, int_option(options, "step_size", 0, op),
                                    number_option(options, "gamma", 0.1, op));
  }
  if (name == "multistep") {
    check_keys(options, {"milestones", "gamma"}, op);
    const json& m = options.value("milestones", json::array());
    QNN_CHECK(m.is_array() && std::all_of(m.begin(), m.end(), [](const json& v) { return v.is_number_integer(); }), op,
              "milestones " << m.dump() << " (expected a list of integers)");
    return std::make_unique<MultiStepLR>(optimizer, m.get<std::vector<int64_t>>(),
                                         number_option(options, "gamma", 0.1, op));
  }
  if (name == "cosine") {
    check_keys(options, {"total_steps", "warmup_steps", "warmup_start_factor", "min_lr"}, op);
    QNN_CHECK(options.contains("total_steps"), op, "schedule 'cosine' without total_steps (expected one)");
    return std::make_unique<CosineWarmupLR>(
        optimizer, int_option(options, "total_steps", 0, op), int_option(options, "warmup_steps", 0, op),
        number_option(options, "warmup_start_factor", 0.0, op), number_option(options, "min_lr", 0.0, op));
  }
  QNN_CHECK(false, op, "unknown schedule '" << name << "' (expected constant, step, multistep or cosine)");
  return nullptr;
}

}  // namespace qnn::optim
