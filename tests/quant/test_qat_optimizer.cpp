// The QAT optimizer wrapper (PARQ Algorithm 1 / Eq. (11), around SGD or AdamW as the PARQ code's
// QuantOptimizer): the latent u follows the base optimizer's own trajectory with the gradients
// taken at w (a test that fails if the base step ran on the quantized weights), warmup is plain FP
// training, weight decay and momentum act on u, Q per row, the final projection puts every weight
// on Q and the file round-trips, the default parameter selection, and bit-identical resume from a
// state dict.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/creation.h"
#include "core/error.h"
#include "core/generator.h"
#include "nn/models/registry.h"
#include "optim/adamw.h"
#include "optim/sgd.h"
#include "quant/qat/qat_optimizer.h"
#include "quant/quantized_weights.h"

using namespace qnn;
using namespace qnn::quant;

namespace {

Tensor param_of(const std::vector<float>& v, const Shape& shape) {
  Tensor t = from_vector(v, shape);
  t.set_requires_grad(true);
  return t;
}

std::vector<float> random_values(size_t n, uint64_t seed, float scale = 1.0f) {
  Generator gen(seed);
  std::vector<float> x(n);
  for (float& v : x)
    v = scale * gen.normal();
  return x;
}

// A gradient that depends on where it is taken: g = (w - b) + c (a quadratic's gradient plus a
// fixed per-step offset).
Tensor gradient_at(const Tensor& w, const std::vector<float>& b, int step) {
  std::vector<float> g = w.to_vector<float>();
  for (size_t i = 0; i < g.size(); ++i)
    g[i] = g[i] - b[i] + 0.05f * std::sin(static_cast<float>(step * 7 + i));
  return from_vector(g, w.shape());
}

QATParamGroup group_of(const std::string& name, const Tensor& p, int bits, bool per_channel = false) {
  QuantizerSpec spec;
  spec.bits = bits;
  return QATParamGroup{"q", {{name, p}}, spec, per_channel};
}

}  // namespace

TEST_SUITE("qat_optimizer") {
  TEST_CASE("the base step runs on the latent u with the gradient taken at w (Eq. (11))") {
    const std::vector<float> init = random_values(12, 1), target = random_values(12, 2);
    optim::SGDOptions so;
    so.lr = 0.1;
    so.momentum = 0.9;
    so.weight_decay = 0.01;
    // QAT: the model's parameter p holds w, the wrapper the latent u.
    Tensor p = param_of(init, {3, 4});
    optim::SGD sgd({p}, so);
    QATOptions o;
    o.warmup_steps = 2;
    o.quant_period = 3;
    o.map.kind = ProxMap::Kind::hard;
    QATOptimizer qat(sgd, {group_of("w", p, 2)}, o);
    // Reference: the same SGD on a tensor that is handed the same gradients (taken at w) but is
    // never overwritten; it must trace u exactly.
    Tensor ref = param_of(init, {3, 4});
    optim::SGD ref_sgd({ref}, so);
    for (int step = 0; step < 8; ++step) {
      const Tensor g = gradient_at(p, target, step);  // at w^t
      p.set_grad(g);
      ref.set_grad(g.clone());
      qat.step();
      ref_sgd.step();
      if (step < 2) {  // warmup: plain FP training, p itself is the trajectory
        CHECK(p.to_vector<float>() == ref.to_vector<float>());
        CHECK_FALSE(qat.quantizing());
        continue;
      }
      REQUIRE(qat.entries()[0].latent.defined());
      CHECK(qat.entries()[0].latent.to_vector<float>() == ref.to_vector<float>());
      // w = Q(u), and w differs from u (otherwise the test would not tell the orders apart).
      const std::vector<float> w = p.to_vector<float>(), u = ref.to_vector<float>();
      const Alphabet& Q = qat.entries()[0].Q[0];
      bool differs = false;
      for (size_t i = 0; i < w.size(); ++i) {
        CHECK(w[i] == Q.nearest(u[i]));
        differs |= w[i] != u[i];
      }
      CHECK(differs);
    }
    CHECK(qat.t() == 8);
  }

  TEST_CASE("stepping from w instead of u would give another latent (the test above can fail)") {
    // The broken order of the PARQ code's first commit: base step on w^t, then store.
    const std::vector<float> init = random_values(12, 1), target = random_values(12, 2);
    optim::SGDOptions so;
    so.lr = 0.1;
    Tensor p = param_of(init, {3, 4});
    optim::SGD sgd({p}, so);
    QATOptions o;
    o.warmup_steps = 0;
    o.map.kind = ProxMap::Kind::hard;
    QATOptimizer qat(sgd, {group_of("w", p, 2)}, o);
    p.set_grad(gradient_at(p, target, 0));
    qat.step();
    const std::vector<float> w1 = p.to_vector<float>(), u1 = qat.entries()[0].latent.to_vector<float>();
    const Tensor g = gradient_at(p, target, 1);
    p.set_grad(g);
    qat.step();
    const std::vector<float> gv = g.to_vector<float>(), u2 = qat.entries()[0].latent.to_vector<float>();
    size_t from_u = 0, from_w = 0;
    for (size_t i = 0; i < u2.size(); ++i) {
      from_u += u2[i] == static_cast<float>(u1[i] - 0.1 * gv[i]);
      from_w += u2[i] == static_cast<float>(w1[i] - 0.1 * gv[i]);
    }
    CHECK(from_u == u2.size());
    CHECK(from_w < u2.size());
  }

  TEST_CASE("AdamW: decoupled weight decay and moments act on u") {
    const std::vector<float> init = random_values(8, 3), target = random_values(8, 4);
    optim::AdamWOptions ao;
    ao.lr = 0.01;
    ao.weight_decay = 0.05;
    Tensor p = param_of(init, {8});
    optim::AdamW adam({p}, ao);
    QATOptions o;
    o.warmup_steps = 1;
    o.map = ProxMap{ProxMap::Kind::parq, 0, 6, 10.0, 0.5};
    QATOptimizer qat(adam, {group_of("w", p, 0)}, o);
    Tensor ref = param_of(init, {8});
    optim::AdamW ref_adam({ref}, ao);
    for (int step = 0; step < 6; ++step) {
      const Tensor g = gradient_at(p, target, step);
      p.set_grad(g);
      ref.set_grad(g.clone());
      qat.step();
      ref_adam.step();
    }
    CHECK(qat.entries()[0].latent.to_vector<float>() == ref.to_vector<float>());
  }

  TEST_CASE("per-channel: one Q per row of dim 0, each fitted to its row of u") {
    Tensor p = param_of(random_values(4 * 9, 5), {4, 1, 3, 3});
    optim::SGD sgd({p}, optim::SGDOptions{});
    QATOptions o;
    o.warmup_steps = 0;
    o.map.kind = ProxMap::Kind::hard;
    QATOptimizer qat(sgd, {group_of("conv.weight", p, 2, true)}, o);
    p.set_grad(from_vector(std::vector<float>(36, 0.0f), p.shape()));
    qat.step();
    const auto& e = qat.entries()[0];
    REQUIRE(e.Q.size() == 4);
    const std::vector<float> u = e.latent.to_vector<float>(), w = p.to_vector<float>();
    for (int r = 0; r < 4; ++r) {
      std::vector<float> row(u.begin() + r * 9, u.begin() + (r + 1) * 9), q(9);
      CHECK(quantize_group(row, e.spec, q).levels() == e.Q[r].levels());
      for (int i = 0; i < 9; ++i)
        CHECK(w[r * 9 + i] == e.Q[r].nearest(u[r * 9 + i]));
    }
    CHECK(qat.report().fraction_on_Q == 1.0);
  }

  TEST_CASE("PARQ during annealing is off Q, the final projection puts every weight on Q, and the file round-trips") {
    Tensor p = param_of(random_values(64, 6), {8, 8});
    optim::SGDOptions so;
    so.lr = 0.01;
    optim::SGD sgd({p}, so);
    QATOptions o;
    o.warmup_steps = 0;
    o.map = ProxMap{ProxMap::Kind::parq, 0, 1000, 100.0, 0.5};
    QATOptimizer qat(sgd, {group_of("fc.weight", p, 2)}, o);
    const std::vector<float> target = random_values(64, 7);
    for (int step = 0; step < 3; ++step) {
      p.set_grad(gradient_at(p, target, step));
      qat.step();
    }
    const QATOptimizer::Report r = qat.report();
    CHECK(r.phase == "anneal");
    CHECK(r.value == doctest::Approx(1.0));
    CHECK(r.fraction_on_Q < 0.5);  // inv ~ 1: w = clamp(u), mostly between the targets
    CHECK(qat.final_projection() > 0);
    CHECK(qat.report().fraction_on_Q == 1.0);
    const std::string path = (std::filesystem::temp_directory_path() / "qnn_test_qat_quantized.safetensors").string();
    save_quantized(path, {{"fc.weight", p}}, qat.quantized_params());
    const QuantizedFile f = load_quantized(path);
    REQUIRE(f.state.size() == 1);
    CHECK(f.state[0].second.to_vector<float>() == p.to_vector<float>());
    std::filesystem::remove(path);
  }

  TEST_CASE("default selection: every Conv2d and Linear weight; --fp-stem-head keeps conv1 and linear in FP") {
    nn::ModelOptions mo;
    auto model = nn::make_model("resnet20", mo);
    QuantizerSpec spec;
    auto groups = default_qat_groups(*model, spec, false);
    REQUIRE(groups.size() == 1);
    CHECK(groups[0].params.size() == 20);  // 19 convs (option-A shortcuts have none) + the classifier
    CHECK(groups[0].params.front().first == "conv1.weight");
    CHECK(groups[0].params.back().first == "linear.weight");
    groups = default_qat_groups(*model, spec, false, /*fp_stem_head=*/true);
    REQUIRE(groups.size() == 2);
    CHECK(groups[0].params.size() == 18);
    CHECK_FALSE(groups[1].quantizer.has_value());
    CHECK(groups[1].params.size() == 2);
  }

  TEST_CASE("resume from the state dicts continues bit-identically") {
    const std::vector<float> init = random_values(24, 8), target = random_values(24, 9);
    auto make = [&](Tensor& p, std::unique_ptr<optim::SGD>& sgd, std::unique_ptr<QATOptimizer>& qat) {
      p = param_of(init, {4, 6});
      optim::SGDOptions so;
      so.lr = 0.05;
      so.momentum = 0.9;
      so.weight_decay = 1e-3;
      sgd = std::make_unique<optim::SGD>(std::vector<Tensor>{p}, so);
      QATOptions o;
      o.warmup_steps = 3;
      o.quant_period = 4;
      o.map = ProxMap{ProxMap::Kind::parq, 0, 20, 10.0, 0.5};
      qat = std::make_unique<QATOptimizer>(*sgd, std::vector<QATParamGroup>{group_of("w", p, 3, true)}, o);
    };
    Tensor p1;
    std::unique_ptr<optim::SGD> sgd1;
    std::unique_ptr<QATOptimizer> qat1;
    make(p1, sgd1, qat1);
    for (int step = 0; step < 25; ++step) {
      p1.set_grad(gradient_at(p1, target, step));
      qat1->step();
    }
    // Interrupted at step 9 (mid-anneal, between Q updates): save copies, rebuild, load.
    Tensor p2;
    std::unique_ptr<optim::SGD> sgd2;
    std::unique_ptr<QATOptimizer> qat2;
    make(p2, sgd2, qat2);
    for (int step = 0; step < 9; ++step) {
      p2.set_grad(gradient_at(p2, target, step));
      qat2->step();
    }
    auto copy = [](optim::StateDict s) {
      for (auto& [name, t] : s.tensors)
        t = t.clone().detach();
      return s;
    };
    const optim::StateDict base_state = copy(sgd2->state_dict()), qat_state = copy(qat2->state_dict());
    const Tensor w_saved = p2.clone().detach();
    Tensor p3;
    std::unique_ptr<optim::SGD> sgd3;
    std::unique_ptr<QATOptimizer> qat3;
    make(p3, sgd3, qat3);
    std::memcpy(p3.data<float>(), w_saved.data<float>(), 24 * sizeof(float));
    sgd3->load_state_dict(base_state);
    qat3->load_state_dict(qat_state);
    CHECK(qat3->t() == 9);
    for (int step = 9; step < 25; ++step) {
      p3.set_grad(gradient_at(p3, target, step));
      qat3->step();
    }
    CHECK(p3.to_vector<float>() == p1.to_vector<float>());
    CHECK(qat3->entries()[0].latent.to_vector<float>() == qat1->entries()[0].latent.to_vector<float>());
    CHECK(qat1->report().fraction_on_Q == 1.0);  // t >= anneal_end: hard
  }

  TEST_CASE("a QATOptimizer is an optim::Optimizer: lr reaches the base, its own state dict resumes everything") {
    const std::vector<float> init = random_values(24, 8), target = random_values(24, 9);
    auto make = [&](Tensor& p, std::unique_ptr<optim::SGD>& sgd, std::unique_ptr<QATOptimizer>& qat) {
      p = param_of(init, {4, 6});
      optim::SGDOptions so;
      so.lr = 0.05;
      so.momentum = 0.9;
      sgd = std::make_unique<optim::SGD>(std::vector<Tensor>{p}, so);
      QATOptions o;
      o.warmup_steps = 3;
      o.quant_period = 4;
      o.map = ProxMap{ProxMap::Kind::parq, 0, 20, 10.0, 0.5};
      qat = std::make_unique<QATOptimizer>(*sgd, std::vector<QATParamGroup>{group_of("w", p, 2)}, o);
    };
    Tensor p1, p2;
    std::unique_ptr<optim::SGD> sgd1, sgd2;
    std::unique_ptr<QATOptimizer> qat1, qat2;
    make(p1, sgd1, qat1);
    optim::Optimizer& as_optimizer = *qat1;  // what a training loop and an LR schedule hold
    CHECK(as_optimizer.kind() == "QAT");
    CHECK(as_optimizer.num_groups() == 1);
    as_optimizer.set_lr(0.02);
    CHECK(sgd1->lr(0) == 0.02);
    CHECK(as_optimizer.lr(0) == 0.02);
    CHECK(as_optimizer.params().size() == 1);
    for (int step = 0; step < 7; ++step) {
      p1.set_grad(gradient_at(p1, target, step));
      as_optimizer.step();
    }
    as_optimizer.zero_grad();
    CHECK_FALSE(p1.grad().defined());
    // Only the QAT optimizer's state: the base's momentum and lr must come back with it.
    optim::StateDict saved = as_optimizer.state_dict();
    for (auto& [name, t] : saved.tensors)
      t = t.clone().detach();
    bool has_base_buffer = false;
    for (const auto& [name, t] : saved.tensors)
      has_base_buffer |= name.rfind("base.", 0) == 0;
    CHECK(has_base_buffer);
    const Tensor w_saved = p1.clone().detach();
    for (int step = 7; step < 15; ++step) {
      p1.set_grad(gradient_at(p1, target, step));
      qat1->step();
    }
    make(p2, sgd2, qat2);
    std::memcpy(p2.data<float>(), w_saved.data<float>(), 24 * sizeof(float));
    qat2->load_state_dict(saved);  // the base SGD was never told anything directly
    CHECK(sgd2->lr(0) == 0.02);
    for (int step = 7; step < 15; ++step) {
      p2.set_grad(gradient_at(p2, target, step));
      qat2->step();
    }
    CHECK(p2.to_vector<float>() == p1.to_vector<float>());
    // A state of another kind of base is refused, and nothing changes.
    optim::StateDict wrong = saved;
    wrong.scalars["base"]["optimizer"] = "AdamW";
    const int64_t t_before = qat2->t();
    CHECK_THROWS_AS(qat2->load_state_dict(wrong), Error);
    CHECK(qat2->t() == t_before);
    optim::StateDict no_base = saved;
    no_base.scalars.erase("base");
    CHECK_THROWS_WITH_AS(qat2->load_state_dict(no_base), doctest::Contains("base optimizer"), Error);
  }

  TEST_CASE("bad input throws") {
    Tensor p = param_of(random_values(4, 1), {4});
    Tensor other = param_of(random_values(4, 2), {4});
    optim::SGD sgd({p}, optim::SGDOptions{});
    CHECK_THROWS_AS(QATOptimizer(sgd, {group_of("other", other, 2)}, QATOptions{}), Error);
    QATOptions o;
    o.quant_period = 0;
    CHECK_THROWS_AS(QATOptimizer(sgd, {group_of("w", p, 2)}, o), Error);
  }
}
