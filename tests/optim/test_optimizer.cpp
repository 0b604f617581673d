// The optimizer base: parameter groups, weight-decay groups, lrs per group, zero_grad, state dict
// contents, and errors for bad options, bad groups and bad state dicts.
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/ops.h"
#include "optim/adamw.h"
#include "optim/sgd.h"

using namespace qnn;
using namespace qnn::optim;
using nlohmann::json;

namespace {

Tensor param(const Shape& shape, float value = 1.0f) {
  Tensor p = full(shape, value);
  p.set_requires_grad(true);
  return p;
}

void give_grads(const std::vector<Tensor>& params, float value) {
  for (const Tensor& p : params)
    p.set_grad(full(p.shape(), value));
}

}  // namespace

TEST_CASE("groups override lr and weight_decay; the rest comes from the options") {
  Tensor w = param({2, 2}), b = param({2});
  SGD opt({{{w}, {}, {}, "decay"}, {{b}, 0.5, 0.0, "no_decay"}}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3});
  REQUIRE(opt.num_groups() == 2);
  REQUIRE(opt.params().size() == 2);
  CHECK(opt.params()[1].impl() == b.impl());
  CHECK(opt.groups()[0].name == "decay");
  CHECK(opt.groups()[0].lr == 0.1);
  CHECK(opt.groups()[0].weight_decay == 1e-3);
  CHECK(opt.groups()[1].lr == 0.5);
  CHECK(opt.groups()[1].weight_decay == 0.0);
  opt.set_lr(1, 0.25);
  CHECK(opt.lr(1) == 0.25);
  CHECK(opt.lr(0) == 0.1);
  opt.set_lr(0.3);
  CHECK(opt.lr(0) == 0.3);
  CHECK(opt.lr(1) == 0.3);
  opt.set_weight_decay(0, 0.0);
  CHECK(opt.groups()[0].weight_decay == 0.0);
  give_grads({w, b}, 1.0f);
  opt.step();
  CHECK(w.to_vector<float>()[0] == doctest::Approx(0.7f));
  CHECK(b.to_vector<float>()[0] == doctest::Approx(0.7f));
}

TEST_CASE("weight_decay_groups: 1-d tensors, biases and listed names get no decay") {
  Tensor conv = param({4, 3, 3, 3}), conv_bias = param({4}), bn_weight = param({4}), head = param({10, 4}),
         pos_embed = param({1, 5, 4}), odd_bias = param({2, 2}), frozen = param({3, 3});
  frozen.set_requires_grad(false);
  const std::vector<ParamGroup> groups = weight_decay_groups({{"conv.weight", conv},
                                                              {"conv.bias", conv_bias},
                                                              {"bn.weight", bn_weight},
                                                              {"head.weight", head},
                                                              {"pos_embed", pos_embed},
                                                              {"odd.bias", odd_bias},
                                                              {"frozen.weight", frozen}},
                                                             0.05, {"pos_embed"});
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].name == "decay");
  CHECK(groups[0].weight_decay == 0.05);
  CHECK(!groups[0].lr.has_value());
  CHECK(groups[0].params.size() == 2);  // conv.weight, head.weight
  CHECK(groups[1].name == "no_decay");
  CHECK(groups[1].weight_decay == 0.0);
  CHECK(groups[1].params.size() == 4);  // conv.bias, bn.weight, pos_embed, odd.bias
  AdamW opt(groups, {.lr = 1e-3});
  CHECK(opt.groups()[1].weight_decay == 0.0);
  CHECK(weight_decay_groups({{"b", conv_bias}}, 0.1).size() == 1);  // no empty group
}

TEST_CASE("bias_no_decay_groups: only *.bias is exempt; norm scales keep the decay (PARQ code)") {
  Tensor conv = param({4, 3, 3, 3}), bn_weight = param({4}), bn_bias = param({4}), fc_bias = param({10}),
         frozen = param({3});
  frozen.set_requires_grad(false);
  const std::vector<ParamGroup> groups = bias_no_decay_groups(
      {{"conv.weight", conv}, {"bn.weight", bn_weight}, {"bn.bias", bn_bias}, {"fc.bias", fc_bias}, {"f.bias", frozen}},
      2e-4);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].name == "decay");
  CHECK(groups[0].weight_decay == 2e-4);
  REQUIRE(groups[0].params.size() == 2);
  CHECK(groups[0].params[1].data<float>() == bn_weight.data<float>());  // BN gamma is decayed
  CHECK(groups[1].name == "no_decay");
  CHECK(groups[1].weight_decay == 0.0);
  CHECK(groups[1].params.size() == 2);  // bn.bias, fc.bias (the frozen one is left out)
}

TEST_CASE("zero_grad drops every gradient") {
  Tensor a = param({3}), b = param({2});
  SGD opt({a, b}, {.lr = 0.1});
  give_grads({a, b}, 2.0f);
  opt.zero_grad();
  CHECK(!a.grad().defined());
  CHECK(!b.grad().defined());
  opt.step();  // nothing to do
  CHECK(a.to_vector<float>() == std::vector<float>{1.0f, 1.0f, 1.0f});
}

TEST_CASE("state dict: names, scalars and a JSON round trip") {
  Tensor w = param({2, 3}), b = param({3});
  AdamW opt({{{w}, {}, {}, "decay"}, {{b}, 0.01, 0.0, "no_decay"}}, {.lr = 0.1, .weight_decay = 0.05});
  give_grads({w, b}, 0.5f);
  opt.step();
  b.zero_grad();
  opt.step();
  const StateDict s = opt.state_dict();
  std::vector<std::string> names;
  for (const auto& [n, t] : s.tensors)
    names.push_back(n);
  CHECK(names == std::vector<std::string>{"state.0.0.exp_avg", "state.0.0.exp_avg_sq", "state.1.0.exp_avg",
                                          "state.1.0.exp_avg_sq"});
  CHECK(s.scalars["optimizer"] == "AdamW");
  CHECK(s.scalars["steps"] == json::parse("[[2], [1]]"));
  CHECK(s.scalars["groups"][1]["name"] == "no_decay");
  CHECK(s.scalars["groups"][1]["lr"] == 0.01);
  CHECK(s.scalars["options"]["weight_decay"] == 0.05);
  // Loading restores the groups' lrs and weight decays.
  Tensor w2 = param({2, 3}), b2 = param({3});
  AdamW other({{{w2}, 0.5, {}, "decay"}, {{b2}, 0.5, {}, "no_decay"}}, {.lr = 0.9, .beta1 = 0.5});
  other.load_state_dict({s.tensors, json::parse(s.scalars.dump())});
  CHECK(other.lr(0) == 0.1);
  CHECK(other.lr(1) == 0.01);
  CHECK(other.groups()[0].weight_decay == 0.05);
  CHECK(other.options().beta1 == 0.9);
  CHECK(other.step_count(0, 0) == 2);
  CHECK(other.step_count(1, 0) == 1);
}

TEST_CASE("bad options and groups throw qnn::Error") {
  Tensor a = param({2});
  CHECK_THROWS_AS(SGD({a}, {.lr = -0.1}), Error);
  CHECK_THROWS_AS(SGD({a}, {.lr = NAN}), Error);
  CHECK_THROWS_AS(SGD({a}, {.weight_decay = -1.0}), Error);
  CHECK_THROWS_AS(SGD({a}, {.momentum = -0.5}), Error);
  CHECK_THROWS_AS(SGD({a}, {.nesterov = true}), Error);  // needs momentum
  CHECK_THROWS_AS(SGD({a}, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}), Error);
  CHECK_THROWS_AS(AdamW({a}, {.lr = -1e-3}), Error);
  CHECK_THROWS_AS(AdamW({a}, {.beta1 = 1.0}), Error);
  CHECK_THROWS_AS(AdamW({a}, {.beta2 = -0.1}), Error);
  CHECK_THROWS_AS(AdamW({a}, {.eps = -1e-8}), Error);
  CHECK_THROWS_AS(SGD(std::vector<ParamGroup>{}, {}), Error);
  CHECK_THROWS_AS(SGD(std::vector<ParamGroup>{{{}, {}, {}, "empty"}}, {}), Error);
  CHECK_THROWS_AS(SGD(std::vector<Tensor>{}, {}), Error);
  CHECK_THROWS_AS(SGD({{{a}, -0.1, {}, ""}}, {}), Error);  // a group's own lr
  CHECK_THROWS_AS(SGD({{{a}, {}, -1.0, ""}}, {}), Error);
  CHECK_THROWS_AS(SGD({{{a}, {}, {}, "x"}, {{a}, {}, {}, "y"}}, {}), Error);  // twice
  CHECK_THROWS_AS(SGD({a, a}, {}), Error);
  CHECK_THROWS_AS(SGD({zeros({2})}, {}), Error);                // no requires_grad
  CHECK_THROWS_AS(SGD({Tensor()}, {}), Error);                  // undefined
  CHECK_THROWS_AS(SGD({zeros({2}, DType::Int64)}, {}), Error);  // not float
  Tensor nonleaf = mul(a, 2.0f);
  CHECK_THROWS_AS(SGD({nonleaf}, {}), Error);
  SGD opt({a}, {.lr = 0.1});
  CHECK_THROWS_AS(opt.set_lr(0, -1.0), Error);
  CHECK_THROWS_AS(opt.set_lr(1, 0.1), Error);
  CHECK_THROWS_AS(opt.set_lr(INFINITY), Error);
  CHECK_THROWS_AS(opt.lr(3), Error);
  CHECK_THROWS_AS(opt.step_count(0, 1), Error);
  a.set_grad(zeros({3}));  // wrong shape
  CHECK_THROWS_AS(opt.step(), Error);
}

TEST_CASE("bad state dicts throw qnn::Error and leave the optimizer unchanged") {
  Tensor w = param({2, 2}), b = param({2});
  SGD opt({{{w}, {}, {}, "decay"}, {{b}, {}, 0.0, "no_decay"}}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4});
  give_grads({w, b}, 1.0f);
  opt.step();
  const StateDict good = opt.state_dict();
  const json before = good.scalars;
  auto with_scalars = [&](const std::function<void(json&)>& edit) {
    StateDict s{good.tensors, good.scalars};
    edit(s.scalars);
    return s;
  };
  auto with_tensors = [&](const NamedTensors& tensors) { return StateDict{tensors, good.scalars}; };

  CHECK_THROWS_AS(opt.load_state_dict({good.tensors, json::array()}), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_scalars([](json& j) { j["optimizer"] = "AdamW"; })), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_scalars([](json& j) { j.erase("groups"); })), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_scalars([](json& j) { j["groups"].erase(1); })), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_scalars([](json& j) { j["groups"][0]["num_params"] = 2; })), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_scalars([](json& j) { j["groups"][0]["name"] = "other"; })), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_scalars([](json& j) { j["groups"][0]["lr"] = -0.1; })), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_scalars([](json& j) { j["groups"][1]["lr"] = "0.1"; })), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_scalars([](json& j) { j["steps"][0][0] = -1; })), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_scalars([](json& j) { j["steps"][0][0] = 0; })), Error);  // buffer, no step
  CHECK_THROWS_AS(opt.load_state_dict(with_scalars([](json& j) { j["steps"][1] = json::array(); })), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_scalars([](json& j) { j["options"]["momentum"] = -1.0; })), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_scalars([](json& j) { j["options"].erase("nesterov"); })), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_tensors({{"state.0.0.momentum_buffer", zeros({3})}})), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_tensors({{"state.0.0.exp_avg", zeros({2, 2})}})), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_tensors({{"state.0.1.momentum_buffer", zeros({2, 2})}})), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_tensors({{"state.2.0.momentum_buffer", zeros({2, 2})}})), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_tensors({{"momentum_buffer", zeros({2, 2})}})), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_tensors({{"state.x.0.momentum_buffer", zeros({2, 2})}})), Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_tensors({{"state.0.0.momentum_buffer", zeros({2, 2}, DType::Int64)}})),
                  Error);
  CHECK_THROWS_AS(opt.load_state_dict(with_tensors(
                      {{"state.0.0.momentum_buffer", zeros({2, 2})}, {"state.0.0.momentum_buffer", zeros({2, 2})}})),
                  Error);
  // Nothing changed: same scalars, same buffers.
  const StateDict after = opt.state_dict();
  CHECK(after.scalars == before);
  REQUIRE(after.tensors.size() == good.tensors.size());
  for (size_t i = 0; i < after.tensors.size(); ++i)
    CHECK(after.tensors[i].second.impl() == good.tensors[i].second.impl());

  // A state without buffers is fine (a fresh optimizer's) and clears the momentum.
  SGD fresh({{{param({2, 2})}, {}, {}, "decay"}, {{param({2})}, {}, 0.0, "no_decay"}}, {.lr = 0.2, .momentum = 0.5});
  opt.load_state_dict(fresh.state_dict());
  CHECK(opt.state_dict().tensors.empty());
  CHECK(opt.lr(0) == 0.2);
  CHECK(opt.options().momentum == 0.5);
}

TEST_CASE("a state whose stepped parameter lost its buffer is refused (it would resume from a fresh one)") {
  Tensor w = param({2, 3}), b = param({3});
  SGD opt({w, b}, {.lr = 0.1, .momentum = 0.9});
  give_grads({w, b}, 0.5f);
  opt.step();
  StateDict s = opt.state_dict();
  REQUIRE(s.tensors.size() == 2);
  s.tensors.pop_back();  // state.0.1.momentum_buffer
  Tensor w2 = param({2, 3}), b2 = param({3});
  SGD other({w2, b2}, {.lr = 0.1, .momentum = 0.9});
  CHECK_THROWS_WITH_AS(other.load_state_dict(s), doctest::Contains("momentum_buffer is missing"), Error);
  CHECK(other.step_count(0, 0) == 0);  // nothing changed
  // Without momentum SGD keeps no buffer: a state with steps and none is whole.
  SGD plain({w, b}, {.lr = 0.1});
  give_grads({w, b}, 0.5f);
  plain.step();
  SGD plain2({w2, b2}, {.lr = 0.1});
  CHECK_NOTHROW(plain2.load_state_dict(plain.state_dict()));
  CHECK(plain2.step_count(0, 0) == 1);
}
