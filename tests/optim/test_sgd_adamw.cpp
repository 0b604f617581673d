// SGD and AdamW: trajectories against PyTorch golden values (tests/tools/gen_optim.py), hand
// checks of single steps, and resuming from a state dict bit-identically.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/ops.h"
#include "optim/adamw.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "tests/check_close.h"

using namespace qnn;
using namespace qnn::optim;
using nlohmann::json;
using qnn::testing::require_close;
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

Tensor param_of(const std::vector<float>& values, const Shape& shape) {
  Tensor p = from_vector<float>(values, shape);
  p.set_requires_grad(true);
  return p;
}

// 1e-6 relative, with a floor of 1 in magnitude so values that pass near 0 are compared on the
// scale of the parameters (|p| ~ 1) rather than on their own.
constexpr Tolerance kTol = Tolerance::relative(1e-6, 1.0);

std::unique_ptr<ParamGroupOptimizer> make_optimizer(const json& c, const std::vector<Tensor>& params) {
  std::vector<ParamGroup> groups;
  for (size_t i = 0; i < params.size(); ++i) {
    const json& spec = c["groups"][i];
    ParamGroup g{{params[i]}, {}, {}, std::to_string(i)};
    if (spec.contains("lr"))
      g.lr = spec["lr"].get<double>();
    if (spec.contains("weight_decay"))
      g.weight_decay = spec["weight_decay"].get<double>();
    groups.push_back(g);
  }
  const json& o = c["options"];
  if (c["kind"] == "SGD") {
    SGDOptions opts;
    opts.lr = o.value("lr", opts.lr);
    opts.momentum = o.value("momentum", opts.momentum);
    opts.dampening = o.value("dampening", opts.dampening);
    opts.nesterov = o.value("nesterov", opts.nesterov);
    opts.weight_decay = o.value("weight_decay", opts.weight_decay);
    return std::make_unique<SGD>(groups, opts);
  }
  AdamWOptions opts;
  opts.lr = o.value("lr", opts.lr);
  opts.beta1 = o.value("beta1", opts.beta1);
  opts.beta2 = o.value("beta2", opts.beta2);
  opts.eps = o.value("eps", opts.eps);
  opts.weight_decay = o.value("weight_decay", opts.weight_decay);
  return std::make_unique<AdamW>(groups, opts);
}

std::vector<Tensor> initial_params(const json& c) {
  std::vector<Tensor> params;
  for (size_t i = 0; i < c["shapes"].size(); ++i)
    params.push_back(param_of(c["p0"][i].get<std::vector<float>>(), c["shapes"][i].get<Shape>()));
  return params;
}

// Sets the gradients PyTorch used at `step` (none where it had none).
void set_grads(const json& c, int step, const std::vector<Tensor>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    const json& g = c["grads"][step][i];
    if (g.is_null())
      params[i].zero_grad();
    else
      params[i].set_grad(from_vector<float>(g.get<std::vector<float>>(), params[i].shape()));
  }
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to_vector<float>(), y = b.to_vector<float>();
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// A state dict as a checkpoint would hold it: tensors copied, scalars through JSON text.
StateDict saved(const StateDict& s) {
  StateDict out;
  for (const auto& [name, t] : s.tensors)
    out.tensors.emplace_back(name, t.clone());
  out.scalars = json::parse(s.scalars.dump());
  return out;
}

}  // namespace

TEST_CASE("SGD and AdamW follow PyTorch's trajectories step by step") {
  for (const auto& item : golden()["optimizers"].items()) {
    const std::string name = item.key();
    const json& c = item.value();
    CAPTURE(name);
    std::vector<Tensor> params = initial_params(c);
    std::unique_ptr<ParamGroupOptimizer> opt = make_optimizer(c, params);
    const int steps = static_cast<int>(c["grads"].size());
    for (int step = 0; step < steps; ++step) {
      set_grads(c, step, params);
      opt->step();
      for (size_t i = 0; i < params.size(); ++i)
        require_close(params[i], c["params"][step][i], kTol,
                      "step " + std::to_string(step) + " param " + std::to_string(i));
    }
    // The buffers and step counts at the end, by their state-dict names.
    const StateDict sd = opt->state_dict();
    for (size_t i = 0; i < params.size(); ++i) {
      const json& want = c["state"][i];
      for (const auto& entry : want.items()) {
        if (entry.key() == "step") {
          CHECK(opt->step_count(i, 0) == entry.value().get<int64_t>());
          continue;
        }
        const std::string key = "state." + std::to_string(i) + ".0." + entry.key();
        bool found = false;
        for (const auto& [n, t] : sd.tensors)
          if (n == key) {
            found = true;
            require_close(t, entry.value(), kTol, key);
          }
        CHECK_MESSAGE(found, "missing " << key);
      }
    }
  }
}

TEST_CASE("SGD: one step by hand, with and without momentum") {
  Tensor p = param_of({1.0f, -2.0f}, {2});
  SGD opt({p}, {.lr = 0.5, .momentum = 0.9, .weight_decay = 0.1});
  p.set_grad(from_vector({0.2f, 0.4f}));
  opt.step();
  // d = g + 0.1 p = [0.3, 0.2]; the buffer starts as d; p -= 0.5 d.
  CHECK(p.to_vector<float>()[0] == doctest::Approx(0.85f).epsilon(1e-7));
  CHECK(p.to_vector<float>()[1] == doctest::Approx(-2.1f).epsilon(1e-7));
  p.set_grad(from_vector({0.2f, 0.4f}));
  opt.step();
  // d = g + 0.1 p = [0.285, 0.19]; b = 0.9 [0.3, 0.2] + d = [0.555, 0.37]; p -= 0.5 b.
  CHECK(p.to_vector<float>()[0] == doctest::Approx(0.85f - 0.5f * 0.555f).epsilon(1e-6));
  CHECK(p.to_vector<float>()[1] == doctest::Approx(-2.1f - 0.5f * 0.37f).epsilon(1e-6));
}

TEST_CASE("AdamW: the first step moves each coordinate by lr (bias-corrected), after decoupled decay") {
  Tensor p = param_of({1.0f, -2.0f, 0.5f}, {3});
  AdamW opt({p}, {.lr = 0.01, .eps = 0.0, .weight_decay = 0.5});
  p.set_grad(from_vector({3.0f, -0.25f, 1e-3f}));
  opt.step();
  // m_hat = g, v_hat = g^2: the step is lr * sign(g), after p *= 1 - lr * wd.
  const std::vector<float> got = p.to_vector<float>();
  CHECK(got[0] == doctest::Approx(1.0f * 0.995f - 0.01f).epsilon(1e-6));
  CHECK(got[1] == doctest::Approx(-2.0f * 0.995f + 0.01f).epsilon(1e-6));
  CHECK(got[2] == doctest::Approx(0.5f * 0.995f - 0.01f).epsilon(1e-6));
}

TEST_CASE("a parameter without a gradient is skipped, its state untouched") {
  Tensor a = param_of({1.0f}, {1}), b = param_of({2.0f}, {1});
  AdamW opt({a, b}, {.lr = 0.1});
  a.set_grad(from_vector({1.0f}));
  opt.step();
  CHECK(b.item() == 2.0f);
  CHECK(opt.step_count(0, 0) == 1);
  CHECK(opt.step_count(0, 1) == 0);
  CHECK(opt.state_dict().tensors.size() == 2);  // a's moments only
}

TEST_CASE("a non-contiguous parameter is updated in place through its view") {
  Tensor base = param_of({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, {2, 3});
  Tensor pt;
  {
    NoGradGuard no_grad;
    pt = base.detach().t();  // [3, 2] view of base's storage
  }
  pt.set_requires_grad(true);
  SGD opt({pt}, {.lr = 1.0});
  pt.set_grad(from_vector<float>({1, 10, 2, 20, 3, 30}, {3, 2}));
  opt.step();
  // pt[i][j] = base[j][i]; base = [[1,2,3],[4,5,6]] - [[1,2,3],[10,20,30]].
  CHECK(base.to_vector<float>() == std::vector<float>{0, 0, 0, -6, -15, -24});
}

TEST_CASE("resuming from a state dict continues bit-identically") {
  for (const char* name : {"sgd_nesterov_wd", "sgd_dampening_wd", "adamw_options", "adamw_skip"}) {
    CAPTURE(name);
    const json& c = golden()["optimizers"][name];
    // Uninterrupted: 5 steps.
    std::vector<Tensor> full = initial_params(c);
    std::unique_ptr<ParamGroupOptimizer> opt_full = make_optimizer(c, full);
    for (int step = 0; step < 5; ++step) {
      set_grads(c, step, full);
      opt_full->step();
    }
    // Interrupted after 3: parameters and optimizer state saved, a fresh optimizer loads them.
    std::vector<Tensor> first = initial_params(c);
    std::unique_ptr<ParamGroupOptimizer> opt_first = make_optimizer(c, first);
    for (int step = 0; step < 3; ++step) {
      set_grads(c, step, first);
      opt_first->step();
    }
    const StateDict checkpoint = saved(opt_first->state_dict());
    std::vector<Tensor> resumed;
    for (const Tensor& p : first)
      resumed.push_back(param_of(p.to_vector<float>(), p.shape()));
    std::unique_ptr<ParamGroupOptimizer> opt_resumed = make_optimizer(c, resumed);
    opt_resumed->load_state_dict(checkpoint);
    // The old optimizer going on must not touch the new one's state (load copies).
    set_grads(c, 3, first);
    opt_first->step();
    for (int step = 3; step < 5; ++step) {
      set_grads(c, step, resumed);
      opt_resumed->step();
    }
    for (size_t i = 0; i < full.size(); ++i)
      CHECK(bit_equal(resumed[i], full[i]));
    const StateDict a = opt_full->state_dict(), b = opt_resumed->state_dict();
    REQUIRE(a.tensors.size() == b.tensors.size());
    for (size_t i = 0; i < a.tensors.size(); ++i) {
      CHECK(a.tensors[i].first == b.tensors[i].first);
      CHECK(bit_equal(a.tensors[i].second, b.tensors[i].second));
    }
    CHECK(a.scalars == b.scalars);
  }
}

TEST_CASE("resuming AdamW with a warmup-cosine schedule continues bit-identically") {
  const json& c = golden()["optimizers"]["adamw_options"];
  auto run = [&](std::vector<Tensor>& params, Optimizer& opt, LRScheduler& sched, int from, int to) {
    for (int step = from; step < to; ++step) {
      set_grads(c, step, params);
      opt.step();
      sched.step();
    }
  };
  std::vector<Tensor> full = initial_params(c);
  std::unique_ptr<ParamGroupOptimizer> opt_full = make_optimizer(c, full);
  CosineWarmupLR sched_full(*opt_full, 4, 2, 0.1, 1e-3);
  run(full, *opt_full, sched_full, 0, 5);

  std::vector<Tensor> first = initial_params(c);
  std::unique_ptr<ParamGroupOptimizer> opt_first = make_optimizer(c, first);
  CosineWarmupLR sched_first(*opt_first, 4, 2, 0.1, 1e-3);
  run(first, *opt_first, sched_first, 0, 3);
  const StateDict opt_state = saved(opt_first->state_dict());
  const json sched_state = json::parse(sched_first.state_dict().dump());

  std::vector<Tensor> resumed;
  for (const Tensor& p : first)
    resumed.push_back(param_of(p.to_vector<float>(), p.shape()));
  std::unique_ptr<ParamGroupOptimizer> opt_resumed = make_optimizer(c, resumed);
  std::unique_ptr<LRScheduler> sched_resumed = make_scheduler(*opt_resumed, sched_state["scheduler"]);
  sched_resumed->load_state_dict(sched_state);
  opt_resumed->load_state_dict(opt_state);
  CHECK(sched_resumed->last_step() == 3);
  run(resumed, *opt_resumed, *sched_resumed, 3, 5);
  for (size_t i = 0; i < full.size(); ++i)
    CHECK(bit_equal(resumed[i], full[i]));
  for (size_t g = 0; g < opt_full->num_groups(); ++g)
    CHECK(opt_resumed->lr(g) == opt_full->lr(g));
}
