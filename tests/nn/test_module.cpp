// nn::Module: hierarchical names, state_dict order, load_state_dict (round trip, strict errors),
// train/eval, zero_grad, num_parameters, to(device), repr.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/cuda/cuda_runtime.h"
#include "core/ops.h"
#include "nn/nn.h"
#include "tests/error_of.h"

using qnn::testing::error_of;
using namespace qnn;
using namespace qnn::nn;

namespace {

// A module with its own parameter and buffers next to children, so the order of own entries
// against children's is visible.
class Toy : public Module {
 public:
  explicit Toy(uint64_t seed) : Module("Toy") {
    Generator gen(seed);
    w = register_parameter("w", randn({2, 3}, gen));
    b = register_buffer("b", randn({3}, gen));
    scratch = register_buffer("scratch", zeros({1}), /*persistent=*/false);
    lin = register_module("lin", std::make_shared<Linear>(3, 2, true, gen));
    seq = register_module("seq", std::make_shared<Sequential>(std::initializer_list<ModulePtr>{
                                     std::make_shared<Linear>(2, 2, true, gen), std::make_shared<ReLU>(),
                                     std::make_shared<BatchNorm1d>(2)}));
  }
  Tensor forward(const Tensor& x) override { return seq->forward(lin->forward(matmul(x, w))); }

  Tensor w, b, scratch;
  std::shared_ptr<Linear> lin;
  std::shared_ptr<Sequential> seq;
};

std::vector<std::string> keys(const StateDict& sd) {
  std::vector<std::string> out;
  for (const auto& [k, t] : sd)
    out.push_back(k);
  return out;
}

bool same_values(const Tensor& a, const Tensor& b) { return a.to_vector<float>() == b.to_vector<float>(); }

}  // namespace

TEST_SUITE("nn.module") {
  TEST_CASE("names compose with dots in registration order; state_dict puts own params, own buffers, children") {
    auto m = std::make_shared<Toy>(1);
    CHECK(keys(m->named_parameters()) == std::vector<std::string>{"w", "lin.weight", "lin.bias", "seq.0.weight",
                                                                  "seq.0.bias", "seq.2.weight", "seq.2.bias"});
    CHECK(keys(m->named_buffers()) ==
          std::vector<std::string>{"b", "scratch", "seq.2.running_mean", "seq.2.running_var"});
    // The non-persistent buffer is not saved; BatchNorm has no num_batches_tracked.
    CHECK(keys(m->state_dict()) == std::vector<std::string>{"w", "b", "lin.weight", "lin.bias", "seq.0.weight",
                                                            "seq.0.bias", "seq.2.weight", "seq.2.bias",
                                                            "seq.2.running_mean", "seq.2.running_var"});
    CHECK(keys(m->named_parameters(/*recurse=*/false)) == std::vector<std::string>{"w"});
    std::vector<std::string> module_names;
    for (const auto& [name, mod] : m->named_modules())
      module_names.push_back(name);
    CHECK(module_names == std::vector<std::string>{"", "lin", "seq", "seq.0", "seq.1", "seq.2"});
    std::vector<std::string> children;
    for (const auto& [name, mod] : m->named_children())
      children.push_back(name);
    CHECK(children == std::vector<std::string>{"lin", "seq"});
    CHECK(m->submodule("seq.2")->type_name() == "BatchNorm1d");
    CHECK(m->parameter("w").impl() == m->w.impl());
    CHECK(m->buffer("b").impl() == m->b.impl());
    CHECK(m->num_parameters() == 6 + (6 + 2) + (4 + 2) + (2 + 2));
    // apply visits children before their parent.
    std::vector<std::string> order;
    m->apply([&](Module& x) { order.push_back(x.type_name()); });
    CHECK(order == std::vector<std::string>{"Linear", "Linear", "ReLU", "BatchNorm1d", "Sequential", "Toy"});
  }

  TEST_CASE("registration refuses bad and repeated names; lookups name what is missing") {
    Toy m(1);
    CHECK(error_of([&] { m.register_parameter("w", zeros({1})); }).find("'w' twice") != std::string::npos);
    CHECK(error_of([&] { m.register_buffer("lin", zeros({1})); }).find("'lin' twice") != std::string::npos);
    CHECK(error_of([&] { m.register_parameter("a.b", zeros({1})); }).find("without '.'") != std::string::npos);
    CHECK(error_of([&] { m.register_module("", std::make_shared<ReLU>()); }).find("non-empty") != std::string::npos);
    CHECK(error_of([&] { m.submodule("seq.7"); }).find("'seq.7' does not exist") != std::string::npos);
    CHECK_THROWS_AS(m.parameter("nope"), Error);
    // named_modules needs the shared_ptr that owns the module.
    CHECK(error_of([&] { m.named_modules(); }).find("std::shared_ptr") != std::string::npos);
    // An undefined tensor registers nothing (PyTorch's register_parameter(name, None)).
    Module empty;
    empty.register_parameter("bias", Tensor());
    CHECK(empty.state_dict().empty());
    CHECK_THROWS_AS(empty.forward(zeros({1})), Error);
  }

  TEST_CASE("state_dict entries are detached and share storage, as PyTorch's") {
    Toy m(1);
    const StateDict sd = m.state_dict();
    CHECK_FALSE(sd[0].second.requires_grad());
    CHECK(sd[0].second.storage() == m.w.storage());
    CHECK(m.w.requires_grad());
    CHECK_FALSE(m.b.requires_grad());
  }

  TEST_CASE("load_state_dict round trip copies values into the existing tensors") {
    Toy a(1), b(2);
    CHECK_FALSE(same_values(a.lin->weight, b.lin->weight));
    const TensorImpl* weight_impl = b.lin->weight.impl();
    const LoadResult r = b.load_state_dict(a.state_dict());
    CHECK(r.missing_keys.empty());
    CHECK(r.unexpected_keys.empty());
    for (const auto& [key, t] : a.state_dict()) {
      CAPTURE(key);
      bool found = false;
      for (const auto& [k2, t2] : b.state_dict())
        if (k2 == key) {
          found = true;
          CHECK(same_values(t, t2));
          CHECK(t.storage() != t2.storage());  // copied, not aliased
        }
      CHECK(found);
    }
    CHECK(b.lin->weight.impl() == weight_impl);  // the member handle is still the registered tensor
    CHECK(b.lin->weight.requires_grad());
    CHECK(same_values(a.forward(ones({4, 2})), b.forward(ones({4, 2}))));
  }

  TEST_CASE("strict load lists missing, unexpected and mis-shaped names, and changes nothing") {
    Toy a(1), b(2);
    StateDict sd;
    for (auto& [k, t] : a.state_dict()) {
      if (k == "lin.bias")
        continue;  // missing
      if (k == "seq.0.weight")
        sd.emplace_back(k, zeros({3, 2}));  // wrong shape
      else
        sd.emplace_back(k, t);
    }
    sd.emplace_back("lin.extra", zeros({1}));
    const Tensor before = b.w.clone();
    const std::string msg = error_of([&] { b.load_state_dict(sd); });
    INFO(msg);
    CHECK(msg.rfind("Toy::load_state_dict: ", 0) == 0);
    CHECK(msg.find("missing keys (1):\n    lin.bias") != std::string::npos);
    CHECK(msg.find("unexpected keys (1):\n    lin.extra") != std::string::npos);
    CHECK(msg.find("shape mismatches (1):\n    seq.0.weight (checkpoint [3, 2], module [2, 2])") != std::string::npos);
    CHECK(same_values(b.w, before));

    // A value of another dtype is refused, not cast (an int32 file read into float32 weights).
    StateDict typed;
    for (auto& [k, t] : a.state_dict())
      typed.emplace_back(k, k == "lin.weight" ? t.to(DType::Int32) : t);
    const std::string typed_msg = error_of([&] { b.load_state_dict(typed); });
    CHECK(typed_msg.find("dtype mismatches (1):\n    lin.weight (checkpoint int32, module float32)") !=
          std::string::npos);
    CHECK(same_values(b.w, before));

    // Non-strict: missing and unexpected keys are reported; a shape mismatch still throws.
    CHECK_THROWS_AS(b.load_state_dict(sd, /*strict=*/false), Error);
    sd.erase(sd.begin() + 3);  // seq.0.weight (lin.bias was never added)
    CHECK(sd[3].first == "seq.0.bias");
    const LoadResult r = b.load_state_dict(sd, /*strict=*/false);
    CHECK(r.missing_keys == std::vector<std::string>{"lin.bias", "seq.0.weight"});
    CHECK(r.unexpected_keys == std::vector<std::string>{"lin.extra"});
    CHECK(same_values(b.w, a.w));

    CHECK(error_of([&] { b.load_state_dict({{"w", a.w}, {"w", a.w}}, false); }).find("'w' twice") != std::string::npos);
  }

  TEST_CASE("BatchNorm's num_batches_tracked from newer PyTorch loads strictly; elsewhere it is unexpected") {
    Toy a(1), b(2);
    StateDict sd = a.state_dict();
    sd.emplace_back("seq.2.num_batches_tracked", from_vector<int64_t>({5}, {}));
    CHECK_NOTHROW(b.load_state_dict(sd));
    sd.emplace_back("lin.num_batches_tracked", from_vector<int64_t>({5}, {}));
    CHECK(error_of([&] { b.load_state_dict(sd); }).find("unexpected keys (1):\n    lin.num_batches_tracked") !=
          std::string::npos);
  }

  TEST_CASE("train and eval reach every descendant") {
    auto m = std::make_shared<Toy>(1);
    CHECK(m->is_training());
    m->eval();
    for (const auto& [name, mod] : m->named_modules())
      CHECK_FALSE(mod->is_training());
    m->train();
    for (const auto& [name, mod] : m->named_modules())
      CHECK(mod->is_training());
  }

  TEST_CASE("zero_grad drops every parameter's gradient") {
    Toy m(1);
    sum(m.forward(ones({4, 2}))).backward();
    for (const auto& [name, p] : m.named_parameters()) {
      CAPTURE(name);
      CHECK(p.grad().defined());
    }
    m.zero_grad();
    for (const auto& [name, p] : m.named_parameters())
      CHECK_FALSE(p.grad().defined());
  }

  TEST_CASE("to(cpu) keeps the tensors; to(cuda) needs the CUDA backend") {
    Toy m(1);
    const TensorImpl* impl = m.w.impl();
    const auto storage = m.w.storage();
    m.to(Device::cpu());
    CHECK(m.w.impl() == impl);
    CHECK(m.w.storage() == storage);
    if (!cuda_compiled()) {
      const std::string msg = error_of([&] { m.to(Device::cuda(0)); });
      CHECK(msg.find("Toy::to: got device cuda:0") == 0);
      CHECK(msg.find("no CUDA backend") != std::string::npos);
      CHECK(m.w.device().is_cpu());
    }
  }

  TEST_CASE("to(cuda) and back moves every tensor in place (GPU only)") {
    if (!cuda_compiled() || cuda_device_count() == 0) {
      MESSAGE("skipped: no CUDA backend or no GPU");
      return;
    }
    Toy a(1), b(2);
    const TensorImpl* impl = b.lin->weight.impl();
    b.to(Device::cuda(0));
    CHECK(b.lin->weight.impl() == impl);
    for (const auto& [k, t] : b.state_dict()) {
      CAPTURE(k);
      CHECK(t.device() == Device::cuda(0));
    }
    b.load_state_dict(a.state_dict());  // CPU values into CUDA tensors
    b.to(Device::cpu());
    for (size_t i = 0; i < a.state_dict().size(); ++i)
      CHECK(same_values(a.state_dict()[i].second, b.state_dict()[i].second));
  }

  TEST_CASE("repr prints the tree as PyTorch does") {
    Sequential s{std::make_shared<Linear>(3, 2), std::make_shared<ReLU>(),
                 std::make_shared<Conv2d>(3, 16, 3, Conv2dArgs{.padding = 1, .bias = false}),
                 std::make_shared<BatchNorm2d>(16)};
    CHECK(s.repr() ==
          "Sequential(\n"
          "  (0): Linear(in_features=3, out_features=2, bias=True)\n"
          "  (1): ReLU()\n"
          "  (2): Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)\n"
          "  (3): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
          ")");
  }
}
