// Learning-rate schedules: values over 20 steps against PyTorch's schedulers (gen_optim.py),
// lr_at against hand values, state dicts, make_scheduler and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/ops.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "tests/check_close.h"

using namespace qnn;
using namespace qnn::optim;
using nlohmann::json;
using qnn::testing::is_close;
using qnn::testing::Tolerance;

namespace {

const json& golden() {
  static const json data = [] {
    std::ifstream in(std::string(QNN_TEST_DATA_DIR) + "/optim.json");
    REQUIRE_MESSAGE(in.good(), "missing tests/data/optim.json (run tests/tools/gen_optim.py)");
    return json::parse(in);
  }();
  return data;
}

Tensor param() {
  Tensor p = zeros({1});
  p.set_requires_grad(true);
  return p;
}

// An SGD with one group per base lr (each group one parameter).
std::unique_ptr<SGD> sgd_with_lrs(const std::vector<double>& lrs, std::vector<Tensor>& keep) {
  std::vector<ParamGroup> groups;
  for (double lr : lrs) {
    keep.push_back(param());
    groups.push_back({{keep.back()}, lr, {}, ""});
  }
  return std::make_unique<SGD>(groups, SGDOptions{});
}

constexpr Tolerance kLrTol(1e-15, 1e-6, 0.0);  // |got - want| <= 1e-15 + 1e-6 |want|

}  // namespace

TEST_CASE("schedules set the lrs PyTorch's schedulers set, group by group, over 20 steps") {
  for (const auto& item : golden()["schedules"].items()) {
    const std::string name = item.key();
    const json& c = item.value();
    CAPTURE(name);
    std::vector<Tensor> keep;
    std::unique_ptr<SGD> opt = sgd_with_lrs(c["base_lrs"].get<std::vector<double>>(), keep);
    std::unique_ptr<LRScheduler> sched = make_scheduler(*opt, c["options"]);
    const json& lrs = c["lrs"];
    for (size_t t = 0; t < lrs.size(); ++t) {
      if (t > 0)
        sched->step();
      CHECK(sched->last_step() == static_cast<int64_t>(t));
      for (size_t g = 0; g < opt->num_groups(); ++g) {
        const double want = lrs[t][g].get<double>();
        CHECK_MESSAGE(is_close(opt->lr(g), want, kLrTol),
                      "t " << t << " group " << g << ": " << opt->lr(g) << " vs " << want);
        CHECK(sched->lr_at(static_cast<int64_t>(t), g) == opt->lr(g));
      }
    }
  }
}

TEST_CASE("lr_at by hand: constant, step, multi-step, warmup and cosine, after the end") {
  std::vector<Tensor> keep;
  std::unique_ptr<SGD> opt = sgd_with_lrs({1.0}, keep);
  CHECK(ConstantLR(*opt).lr_at(1000) == 1.0);
  StepLR step(*opt, 10, 0.5);
  CHECK(step.lr_at(9) == 1.0);
  CHECK(step.lr_at(10) == 0.5);
  CHECK(step.lr_at(25) == 0.25);
  MultiStepLR multi(*opt, {20, 5}, 0.1);  // unsorted on purpose
  CHECK(multi.lr_at(4) == 1.0);
  CHECK(is_close(multi.lr_at(5), 0.1, kLrTol));
  CHECK(is_close(multi.lr_at(20), 0.01, kLrTol));
  CosineWarmupLR cosine(*opt, 14, 4, 0.0, 0.1);
  CHECK(cosine.lr_at(0) == 0.0);
  CHECK(cosine.lr_at(2) == 0.5);
  CHECK(cosine.lr_at(4) == 1.0);
  CHECK(is_close(cosine.lr_at(9), 0.55, kLrTol));  // half way: the mean of 1 and min_lr
  CHECK(is_close(cosine.lr_at(14), 0.1, kLrTol));
  CHECK(cosine.lr_at(15) == 0.1);  // stays at min_lr
  CHECK(cosine.lr_at(1000) == 0.1);
}

TEST_CASE("constructing a scheduler sets the lr of step 0; base lrs are the lrs it found") {
  std::vector<Tensor> keep;
  std::unique_ptr<SGD> opt = sgd_with_lrs({0.4, 0.2}, keep);
  CosineWarmupLR sched(*opt, 10, 4, 0.25);
  CHECK(opt->lr(0) == 0.1);
  CHECK(opt->lr(1) == 0.05);
  CHECK(sched.base_lrs() == std::vector<double>{0.4, 0.2});
}

TEST_CASE("scheduler state dict: restores the step, base lrs and options, and sets the lrs") {
  std::vector<Tensor> keep_a, keep_b;
  std::unique_ptr<SGD> a = sgd_with_lrs({0.3, 0.1}, keep_a);
  MultiStepLR sched_a(*a, {2, 4}, 0.5);
  for (int i = 0; i < 5; ++i)
    sched_a.step();
  const json state = json::parse(sched_a.state_dict().dump());

  std::unique_ptr<SGD> b = sgd_with_lrs({9.0, 9.0}, keep_b);  // other base lrs: the state's win
  MultiStepLR sched_b(*b, {100}, 0.9);                        // other options: the state's win
  sched_b.load_state_dict(state);
  CHECK(sched_b.last_step() == 5);
  CHECK(sched_b.base_lrs() == sched_a.base_lrs());
  CHECK(sched_b.options_json() == sched_a.options_json());
  CHECK(b->lr(0) == a->lr(0));
  CHECK(b->lr(1) == a->lr(1));
  sched_a.step();
  sched_b.step();
  CHECK(b->lr(0) == a->lr(0));

  // Wrong kind, wrong group count, bad values: errors, and nothing changes.
  StepLR other(*b, 3);
  CHECK_THROWS_AS(other.load_state_dict(state), Error);
  std::vector<Tensor> keep_c;
  std::unique_ptr<SGD> c = sgd_with_lrs({0.3}, keep_c);
  MultiStepLR one_group(*c, {2, 4}, 0.5);
  CHECK_THROWS_AS(one_group.load_state_dict(state), Error);
  json bad = state;
  bad["last_step"] = -1;
  CHECK_THROWS_AS(sched_b.load_state_dict(bad), Error);
  bad = state;
  bad["scheduler"]["gamma"] = -2.0;
  CHECK_THROWS_AS(sched_b.load_state_dict(bad), Error);
  bad = state;
  bad["scheduler"]["milestones"] = "x";
  CHECK_THROWS_AS(sched_b.load_state_dict(bad), Error);
  bad = state;
  bad["base_lrs"] = {0.1, "x"};
  CHECK_THROWS_AS(sched_b.load_state_dict(bad), Error);
  CHECK_THROWS_AS(sched_b.load_state_dict(json::array()), Error);
  CHECK(sched_b.last_step() == 6);
  CHECK(sched_b.options_json() == sched_a.options_json());
}

TEST_CASE("make_scheduler round-trips options_json and rejects bad options") {
  std::vector<Tensor> keep;
  std::unique_ptr<SGD> opt = sgd_with_lrs({0.1}, keep);
  CosineWarmupLR cosine(*opt, 100, 5, 0.1, 1e-5);
  CHECK(make_scheduler(*opt, cosine.options_json())->options_json() == cosine.options_json());
  StepLR step(*opt, 30, 0.2);
  CHECK(make_scheduler(*opt, step.options_json())->options_json() == step.options_json());
  // Each scheduler took the lr it found as its base: the one the previous one set for its step 0.
  CHECK(make_scheduler(*opt, {{"name", "constant"}})->lr_at(7) == opt->lr());

  CHECK_THROWS_AS(make_scheduler(*opt, {{"name", "linear"}}), Error);
  CHECK_THROWS_AS(make_scheduler(*opt, {{"step_size", 3}}), Error);
  CHECK_THROWS_AS(make_scheduler(*opt, {{"name", "step"}}), Error);  // no step_size
  CHECK_THROWS_AS(make_scheduler(*opt, {{"name", "step"}, {"step_size", 0}}), Error);
  CHECK_THROWS_AS(make_scheduler(*opt, {{"name", "step"}, {"step_size", 3}, {"gama", 0.1}}), Error);
  CHECK_THROWS_AS(make_scheduler(*opt, {{"name", "step"}, {"step_size", 2.5}}), Error);
  CHECK_THROWS_AS(make_scheduler(*opt, {{"name", "multistep"}, {"milestones", {3, -1}}}), Error);
  CHECK_THROWS_AS(make_scheduler(*opt, {{"name", "cosine"}}), Error);  // no total_steps
  CHECK_THROWS_AS(make_scheduler(*opt, {{"name", "cosine"}, {"total_steps", 5}, {"warmup_steps", 5}}), Error);
  CHECK_THROWS_AS(make_scheduler(*opt, {{"name", "cosine"}, {"total_steps", 5}, {"warmup_start_factor", 2.0}}), Error);
  CHECK_THROWS_AS(make_scheduler(*opt, {{"name", "cosine"}, {"total_steps", 5}, {"min_lr", -1.0}}), Error);
  CHECK_THROWS_AS(cosine.lr_at(-1), Error);
  CHECK_THROWS_AS(cosine.lr_at(0, 1), Error);
}
